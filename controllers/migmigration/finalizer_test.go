package migmigration_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// withFinalizer adds the migration finalizer, as the controller does before a first phase.
func withFinalizer(m *migv1.MigMigration) {
	GinkgoHelper()
	controllerutil.AddFinalizer(m, migv1.MigMigrationFinalizer)
	Expect(host.Client.Update(ctx, m)).To(Succeed())
}

func gone(m *migv1.MigMigration) func() bool {
	return func() bool {
		return apierrors.IsNotFound(host.Client.Get(ctx, client.ObjectKeyFromObject(m), &migv1.MigMigration{}))
	}
}

var _ = Describe("MigMigration deletion", func() {
	It("lets a migration that has ended go at once", func() {
		m := newMigration("ended", migv1.MigMigrationStatus{Phase: "Completed", Itinerary: "Final"})
		withFinalizer(m)
		Expect(host.Client.Delete(ctx, m)).To(Succeed())
		_, err := reconciler(host.Client, host.Client).Reconcile(ctx, request(m))
		Expect(err).NotTo(HaveOccurred())
		Eventually(gone(m)).Should(BeTrue())
	})

	It("lets a started migration whose plan is gone go, saying it could not be canceled", func() {
		m := newMigration("orphan", migv1.MigMigrationStatus{Phase: "EnsureSrcQuiesced", Itinerary: "Final"})
		withFinalizer(m)
		Expect(host.Client.Delete(ctx, m)).To(Succeed())
		r := reconciler(host.Client, host.Client)
		_, err := r.Reconcile(ctx, request(m))
		Expect(err).NotTo(HaveOccurred())
		Eventually(gone(m)).Should(BeTrue())
		recorder := r.Recorder.(*events.FakeRecorder)
		Eventually(recorder.Events).WithTimeout(time.Second).Should(Receive(And(ContainSubstring("NotCanceled"), ContainSubstring("EnsureSrcQuiesced"))))
	})

	It("does not add the finalizer to a migration that cannot start", func() {
		m := newMigration("blocked", migv1.MigMigrationStatus{})
		_, err := reconciler(host.Client, host.Client).Reconcile(ctx, request(m))
		Expect(err).NotTo(HaveOccurred())
		got := &migv1.MigMigration{}
		Expect(host.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		Expect(got.Finalizers).To(BeEmpty())
	})
})
