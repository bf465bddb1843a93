package migmigration_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/controllers/migmigration"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// staleCache is a client whose reads of MigMigrations return a copy taken earlier, as an
// informer cache that has not seen the latest writes yet; everything else goes to the API
// server.
type staleCache struct {
	client.Client
	stale *migv1.MigMigration
}

func (c staleCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if m, ok := obj.(*migv1.MigMigration); ok && key == client.ObjectKeyFromObject(c.stale) {
		c.stale.DeepCopyInto(m)
		return nil
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// concurrentWriter is a client that, right after the reconcile reads the migration, lets
// another writer change the migration's status: the reconcile then holds a read that is one
// write behind.
type concurrentWriter struct {
	client.Client
	write func()
	done  bool
}

func (c *concurrentWriter) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := c.Client.Get(ctx, key, obj, opts...)
	if _, ok := obj.(*migv1.MigMigration); ok && err == nil && !c.done {
		c.done = true
		c.write()
	}
	return err
}

// reconciler returns a migration Reconciler whose cached client is cached and whose direct
// client is direct.
func reconciler(cached, direct client.Client) *migmigration.Reconciler {
	return &migmigration.Reconciler{
		Client:     cached,
		HostDirect: direct,
		Settings:   settings.NewReader(host.Client, opNamespace),
		Recorder:   events.NewFakeRecorder(100),
		Clock:      clocktesting.NewFakePassiveClock(time.Now()),
	}
}

// newMigration creates a migration of a plan that does not exist (it is blocked, which is
// all these specs need) and gives it status. It carries the labels the controller puts on it
// already, so that the only write of a reconcile is its status patch.
func newMigration(name string, status migv1.MigMigrationStatus) *migv1.MigMigration {
	GinkgoHelper()
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: name},
		Spec: migv1.MigMigrationSpec{MigPlanRef: &corev1.ObjectReference{Namespace: opNamespace, Name: "no-such-plan"}}}
	Expect(host.Client.Create(ctx, m)).To(Succeed())
	m.Labels = map[string]string{migv1.MigrationUIDLabel: string(m.UID)}
	Expect(host.Client.Update(ctx, m)).To(Succeed())
	m.Status = status
	Expect(host.Client.Status().Update(ctx, m)).To(Succeed())
	return m
}

func request(m *migv1.MigMigration) ctrl.Request {
	return ctrl.Request{NamespacedName: client.ObjectKeyFromObject(m)}
}

func conditionTypes(m *migv1.MigMigration) []string {
	var out []string
	for _, c := range m.Status.Conditions {
		out = append(out, c.Type)
	}
	return out
}

var _ = Describe("MigMigration status", func() {
	It("is read from the API server, so a stale cache cannot put older status back", func() {
		m := newMigration("stale-read", migv1.MigMigrationStatus{})
		stale := m.DeepCopy()
		done := conditions.Advisory(migv1.Succeeded, "", "The migration has completed successfully.")
		done.Durable, done.LastTransitionTime = true, metav1.Now()
		m.Status = migv1.MigMigrationStatus{Phase: "Completed", Itinerary: "Final", Conditions: migv1.Conditions{done}}
		Expect(host.Client.Status().Update(ctx, m)).To(Succeed())

		r := reconciler(staleCache{Client: host.Client, stale: stale}, host.Client)
		_, err := r.Reconcile(ctx, request(m))
		Expect(err).NotTo(HaveOccurred())

		got := &migv1.MigMigration{}
		Expect(host.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		Expect(got.Status.Phase).To(Equal("Completed"))
		Expect(conditionTypes(got)).To(Equal([]string{migv1.Succeeded}), "the finished migration's conditions were replaced")
	})

	It("is patched under optimistic locking, so a write that came in between is never overwritten", func() {
		m := newMigration("concurrent-write", migv1.MigMigrationStatus{})
		theirs := conditions.Warn(migv1.StageNoOp, "", "written by someone else")
		theirs.Durable, theirs.LastTransitionTime = true, metav1.Now()
		writer := &concurrentWriter{Client: host.Client, write: func() {
			latest := &migv1.MigMigration{}
			Expect(host.Client.Get(ctx, client.ObjectKeyFromObject(m), latest)).To(Succeed())
			latest.Status.Conditions = append(latest.Status.Conditions, theirs)
			Expect(host.Client.Status().Update(ctx, latest)).To(Succeed())
		}}

		r := reconciler(writer, writer)
		_, err := r.Reconcile(ctx, request(m))
		Expect(err).To(HaveOccurred(), "the reconcile read before the other write: its patch must conflict")

		got := &migv1.MigMigration{}
		Expect(host.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		Expect(conditionTypes(got)).To(ContainElement(migv1.StageNoOp), "the other writer's condition was overwritten")

		By("retrying on a fresh read, which keeps both")
		_, err = r.Reconcile(ctx, request(m))
		Expect(err).NotTo(HaveOccurred())
		Expect(host.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		Expect(conditionTypes(got)).To(ContainElements(migv1.StageNoOp, migv1.InvalidPlanRef))
	})
})

var _ = Describe("MigMigration observedGeneration", func() {
	It("records the spec generation its status describes", func() {
		m := newMigration("observed-generation", migv1.MigMigrationStatus{})
		_, err := reconciler(host.Client, host.Client).Reconcile(ctx, request(m))
		Expect(err).NotTo(HaveOccurred())
		got := &migv1.MigMigration{}
		Expect(host.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		Expect(got.Generation).NotTo(BeZero())
		Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	})
})
