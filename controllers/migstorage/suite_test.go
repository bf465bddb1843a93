package migstorage_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ferrymtc/ferry/controllers/migstorage"
	"github.com/ferrymtc/ferry/pkg/objectstore"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/s3"
)

// The suite runs the MigStorage controller alone against a real control plane, and points
// MigStorages at a real S3 server holding the bucket "backups".
var (
	cp     *controlplane.ControlPlane
	store  *s3.Server
	ctx    context.Context
	cancel context.CancelFunc
)

const (
	opNamespace = "openshift-migration"
	bucket      = "backups"
)

func TestMigStorage(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "MigStorage controller")
}

var _ = BeforeSuite(func() {
	// Reconciles are quick, but CI machines are loaded: wait generously, poll often.
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	store, err = s3.Start(s3.Options{})
	Expect(err).NotTo(HaveOccurred())
	Expect(store.CreateBucket(ctx, bucket)).To(Succeed())
	cp, err = controlplane.Start("host")
	Expect(err).NotTo(HaveOccurred())
	Expect(cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opNamespace}})).To(Succeed())

	scheme, err := controlplane.Scheme()
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cp.Config, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// As in the operator: Secrets are never cached.
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
	})
	Expect(err).NotTo(HaveOccurred())
	r := &migstorage.Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder(migstorage.ControllerName),
		Clock:     clock.RealClock{},
		Tester:    objectstore.Tester{RequestTimeout: 5 * time.Second},
	}
	Expect(r.SetupWithManager(ctx, mgr)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if cp != nil {
		Expect(cp.Stop()).To(Succeed())
	}
	if store != nil {
		Expect(store.Stop()).To(Succeed())
	}
})
