package dvm_test

import (
	"context"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// useMigrationController creates (or replaces the spec of) the MigrationController the
// operator reads its settings from, on the host, and deletes it when the spec ends, so that
// other specs run with the defaults whatever their order.
func useMigrationController(spec migv1.MigrationControllerSpec) {
	GinkgoHelper()
	c := env.Destination.Client
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: settings.PreferredName}}
	err := c.Get(ctx, client.ObjectKeyFromObject(mc), mc)
	switch {
	case apierrors.IsNotFound(err):
		mc.Spec = spec
		Expect(c.Create(ctx, mc)).To(Succeed())
	case err == nil:
		mc.Spec = spec
		Expect(c.Update(ctx, mc)).To(Succeed())
	default:
		Expect(err).NotTo(HaveOccurred())
	}
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(c.Delete(ctx, mc))).To(Succeed())
		Eventually(func() error {
			return c.Get(ctx, client.ObjectKeyFromObject(mc), &migv1.MigrationController{})
		}).Should(MatchError(ContainSubstring("not found")))
	})
}

// transferObjects keeps the last version of every transfer Service and ConfigMap a watch saw
// in some namespaces of one cluster: the DVM deletes them when it ends, and a test looks at
// them afterwards (what kind of Service, which address the clients were given).
type transferObjects struct {
	mu         sync.Mutex
	services   map[string]*corev1.Service
	configMaps map[string]*corev1.ConfigMap
	// broken is set when a watch ended before the spec did: events may be missing.
	broken bool
}

// recordTransferObjects starts watching the transfer Services and ConfigMaps of the
// namespaces (which need not exist yet) on the cluster of cs, until the spec ends. Call it
// before creating the DVM: the watches start when it returns.
func recordTransferObjects(cs kubernetes.Interface, namespaces ...string) *transferObjects {
	GinkgoHelper()
	r := &transferObjects{services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{}}
	watchCtx, stop := context.WithCancel(ctx)
	DeferCleanup(stop)
	opts := metav1.ListOptions{LabelSelector: labels.Set{transfer.LabelApp: transfer.AppTransfer}.String()}
	for _, n := range namespaces {
		for _, start := range []func(context.Context, metav1.ListOptions) (watch.Interface, error){
			cs.CoreV1().Services(n).Watch, cs.CoreV1().ConfigMaps(n).Watch,
		} {
			w, err := start(watchCtx, opts)
			Expect(err).NotTo(HaveOccurred())
			go r.record(watchCtx, w)
		}
	}
	return r
}

func (r *transferObjects) record(ctx context.Context, w watch.Interface) {
	defer w.Stop()
	for ev := range w.ResultChan() {
		r.mu.Lock()
		switch o := ev.Object.(type) {
		case *corev1.Service:
			r.services[o.Namespace+"/"+o.Name] = o
		case *corev1.ConfigMap:
			r.configMaps[o.Namespace+"/"+o.Name] = o
		}
		r.mu.Unlock()
	}
	if ctx.Err() == nil {
		r.mu.Lock()
		r.broken = true
		r.mu.Unlock()
	}
}

// service returns the last version seen of the Service namespace/name, or nil.
func (r *transferObjects) service(namespace, name string) *corev1.Service {
	GinkgoHelper()
	r.mu.Lock()
	defer r.mu.Unlock()
	Expect(r.broken).To(BeFalse(), "a watch of transfer objects ended early")
	return r.services[namespace+"/"+name]
}

// configMap returns the last version seen of the ConfigMap namespace/name, or nil.
func (r *transferObjects) configMap(namespace, name string) *corev1.ConfigMap {
	GinkgoHelper()
	r.mu.Lock()
	defer r.mu.Unlock()
	Expect(r.broken).To(BeFalse(), "a watch of transfer objects ended early")
	return r.configMaps[namespace+"/"+name]
}
