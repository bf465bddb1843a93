package migration_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/test/fixtures"
)

var _ = Describe("A migration whose destination Velero stalls", func() {
	It("warns with what it waits for, then fails and starts the source application again", func() {
		useSettings(map[string]any{
			"migration_no_progress_warning_minutes": "15s",
			"migration_no_progress_timeout_minutes": "45s",
		})
		app("stalled", 1)
		plan := readyPlan("stalled", []string{"stalled:stalled-new"}, nil)

		// The plan's storage location must have been validated there first: Ferry waits for
		// it before anything else (WaitForVeleroReady), and a stopped Velero keeps its status.
		Eventually(func(g Gomega) {
			bsl := &velerov1.BackupStorageLocation{}
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: fixtures.Storage}, bsl)).To(Succeed())
			g.Expect(bsl.Status.Phase).To(Equal(velerov1.BackupStorageLocationPhaseAvailable))
		}).Should(Succeed())
		By("stopping the destination's Velero: the final Restore stays New")
		Expect(env.StopVelero(env.Destination)).To(Succeed())
		DeferCleanup(func() {
			// The Restore would run as soon as Velero is back: it goes first.
			Expect(env.Destination.Client.DeleteAllOf(ctx, &velerov1.Restore{}, client.InNamespace(ns),
				client.MatchingLabels{"migration.openshift.io/migrated-by-migplan": string(plan.UID)})).To(Succeed())
			Expect(env.StartVelero(ctx, env.Destination)).To(Succeed())
		})
		m := migrate("stalled-final", plan, migv1.MigMigrationSpec{QuiescePods: true})

		got := &migv1.MigMigration{}
		Eventually(func(g Gomega) {
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
			c := conditions.Find(got.Status.Conditions, migv1.NoProgress)
			g.Expect(c).NotTo(BeNil(), "phase %s, conditions %v", got.Status.Phase, got.Status.Conditions)
			g.Expect(c.Category).To(Equal(migv1.CategoryWarn))
			g.Expect(c.Message).To(SatisfyAll(ContainSubstring("Restore "+ns+"/"), ContainSubstring("destination cluster"),
				ContainSubstring("since")))
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		Expect(got.Status.Phase).To(Equal("FinalRestoreCreated"))
		Expect(replicasOf(env.Source.Client, "stalled")()).To(Equal(int32(0)), "the source is quiesced while the migration waits")

		failed := completed(m, 2*time.Minute)
		Expect(failed.Status.Itinerary).To(Equal("Failed"))
		Expect(failed.Status.Errors).To(ContainElement(SatisfyAll(ContainSubstring("No progress"), ContainSubstring("Restore"))))
		Expect(conditions.Find(failed.Status.Conditions, migv1.Failed)).NotTo(BeNil())
		Eventually(replicasOf(env.Source.Client, "stalled")).Should(Equal(int32(1)), "the Failed itinerary started the source app again")
	})
})

// useSettings creates the MigrationController with the given spec fields for the current
// spec, and deletes it when the spec ends. Unstructured: the fields are MTC's snake_case
// names, as an administrator writes them.
func useSettings(spec map[string]any) {
	GinkgoHelper()
	mc := &unstructured.Unstructured{}
	mc.SetGroupVersionKind(migv1.GroupVersion.WithKind("MigrationController"))
	mc.SetNamespace(ns)
	mc.SetName(settings.PreferredName)
	Expect(unstructured.SetNestedMap(mc.Object, spec, "spec")).To(Succeed())
	Expect(env.Destination.Client.Create(ctx, mc)).To(Succeed())
	DeferCleanup(func() { Expect(env.Destination.Client.Delete(ctx, mc)).To(Succeed()) })
}
