package migration_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

var _ = Describe("Migrations", Ordered, func() {
	It("stages, then cuts over with a namespace mapping and quiesced pods", func() {
		app("shop", 2)
		plan := readyPlan("shop", []string{"shop:shop-new"}, nil)

		stage := completed(migrate("shop-stage", plan, migv1.MigMigrationSpec{Stage: true}), 2*time.Minute)
		Expect(stage.Status.Errors).To(BeEmpty())
		Expect(hasCondition(stage, migv1.StageNoOp)).To(BeTrue(), "a stage without PVs says it had nothing to copy")
		Expect(hasCondition(stage, migv1.SucceededWithWarnings)).To(BeTrue())
		Expect(exists(env.Destination.Client, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-new", Name: "web"}})()).To(BeFalse(),
			"a stage migration moves no application objects")

		final := completed(migrate("shop-final", plan, migv1.MigMigrationSpec{QuiescePods: true}), 3*time.Minute)
		Expect(final.Status.Errors).To(BeEmpty())
		Expect(hasCondition(final, migv1.Succeeded)).To(BeTrue(), "conditions: %v", final.Status.Conditions)
		Expect(final.Status.Itinerary).To(Equal("Final"))
		for _, step := range final.Status.Pipeline {
			Expect(step.Failed).To(BeFalse(), "step %s", step.Name)
			Expect(step.Completed != nil || step.Skipped).To(BeTrue(), "step %s neither completed nor skipped", step.Name)
		}

		d := env.Destination.Client
		for _, obj := range []client.Object{
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-new", Name: "web"}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-new", Name: "web-config"}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-new", Name: "internal"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-new", Name: "web-secret"}},
		} {
			Expect(exists(d, obj)()).To(BeTrue(), "%T %s on the destination", obj, obj.GetName())
		}
		Expect(replicasOf(d, "shop-new")()).To(Equal(int32(2)), "the destination app runs with the source's replicas")
		Expect(replicasOf(env.Source.Client, "shop")()).To(Equal(int32(0)), "the source app is quiesced")
		backups, restores := veleroObjects(final)
		Expect(backups).To(ConsistOf(HaveSuffix(":Completed")))
		Expect(restores).To(ConsistOf(HaveSuffix(":Completed")))
		Expect(bucketHolds(final)).To(BeTrue(), "the cutover's backup is in the replication repository")
		// `kubectl logs` of the operator tells the migration's way through its phases.
		Expect(env.OperatorLogTail(1 << 20)).To(And(
			MatchRegexp(`"msg":"Migration phase".*"migration":"shop-final".*EnsureCloudSecretPropagated`),
			MatchRegexp(`"msg":"Migration phase".*"migration":"shop-final".*"phase":"Completed"`)))
	})

	It("migrates exactly the selected resources of a state migration and closes the plan", func() {
		app("state", 1)
		plan := readyPlan("state", []string{"state"}, func(p *migv1.MigPlan) {
			p.Spec.IncludedResources = []*metav1.GroupKind{{Kind: "ConfigMap"}, {Kind: "Secret"}}
			p.Spec.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}
		})
		m := completed(migrate("state-objects", plan, migv1.MigMigrationSpec{}), 3*time.Minute)
		Expect(m.Status.Errors).To(BeEmpty())

		d := env.Destination.Client
		Expect(exists(d, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "state", Name: "web-config"}})()).To(BeTrue())
		Expect(exists(d, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "state", Name: "web-secret"}})()).To(BeTrue())
		Expect(exists(d, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "state", Name: "internal"}})()).To(BeFalse(), "not labelled app=frontend")
		Expect(exists(d, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "state", Name: "web"}})()).To(BeFalse(), "not an included kind")
		Expect(exists(d, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "state", Name: "web"}})()).To(BeFalse(), "not an included kind")
		Expect(replicasOf(env.Source.Client, "state")()).To(Equal(int32(1)), "the source app keeps running")
		Eventually(func(g Gomega) {
			g.Expect(d.Get(ctx, client.ObjectKeyFromObject(plan), plan)).To(Succeed())
			g.Expect(plan.Spec.Closed).To(BeTrue())
		}).Should(Succeed())
	})

	It("rolls back a cutover: the destination objects go, the source app runs again", func() {
		app("roll", 3)
		plan := readyPlan("roll", []string{"roll:roll-new"}, nil)
		completed(migrate("roll-final", plan, migv1.MigMigrationSpec{QuiescePods: true}), 3*time.Minute)
		Expect(replicasOf(env.Source.Client, "roll")()).To(Equal(int32(0)))
		Expect(replicasOf(env.Destination.Client, "roll-new")()).To(Equal(int32(3)))

		rb := completed(migrate("roll-back", plan, migv1.MigMigrationSpec{Rollback: true}), 3*time.Minute)
		Expect(rb.Status.Errors).To(BeEmpty())
		Expect(hasCondition(rb, migv1.Succeeded)).To(BeTrue(), "conditions: %v", rb.Status.Conditions)

		d := env.Destination.Client
		for _, obj := range []client.Object{
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "roll-new", Name: "web"}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "roll-new", Name: "web"}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "roll-new", Name: "web-config"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "roll-new", Name: "web-secret"}},
		} {
			Eventually(exists(d, obj)).Should(BeFalse(), "%T %s is gone from the destination", obj, obj.GetName())
		}
		Expect(replicasOf(env.Source.Client, "roll")()).To(Equal(int32(3)), "the source app runs again")
		backups, restores := veleroObjects(rb)
		Expect(backups).To(BeEmpty())
		Expect(restores).To(BeEmpty())
	})

	It("cancels in the middle of a backup: Canceled, nothing left behind, the source app running", func() {
		app("cancel", 2)
		bulk("cancel", 300)
		plan := readyPlan("cancel", []string{"cancel:cancel-new"}, nil)
		m := migrate("cancel-final", plan, migv1.MigMigrationSpec{QuiescePods: true})
		Eventually(func(g Gomega) {
			got := &migv1.MigMigration{}
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
			m = got
			backups, _ := veleroObjects(m)
			g.Expect(backups).NotTo(BeEmpty())
		}).WithPolling(20 * time.Millisecond).Should(Succeed())
		backups, _ := veleroObjects(m)
		GinkgoWriter.Printf("canceling at phase %s with backups %v\n", m.Status.Phase, backups)
		Expect(backups).NotTo(ContainElement(HaveSuffix(":Completed")), "canceled before the backup completed")
		patch := client.MergeFrom(m.DeepCopy())
		m.Spec.Canceled = true
		Expect(env.Destination.Client.Patch(ctx, m, patch)).To(Succeed())

		m = completed(m, 3*time.Minute)
		Expect(hasCondition(m, migv1.Canceled)).To(BeTrue(), "conditions: %v", m.Status.Conditions)
		Expect(hasCondition(m, migv1.Canceling)).To(BeFalse())
		Expect(m.Status.Itinerary).To(Equal("Cancel"))
		backups, restores := veleroObjects(m)
		Expect(backups).To(BeEmpty(), "the Backup is deleted")
		Expect(restores).To(BeEmpty())
		Expect(deleteRequests()).To(BeEmpty(), "Velero's processed DeleteBackupRequests are cleaned up")
		Expect(bucketHolds(m)).To(BeFalse(), "the backup's data is gone from the bucket")
		Expect(replicasOf(env.Source.Client, "cancel")()).To(Equal(int32(2)), "the source app runs")
		Expect(exists(env.Destination.Client, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "cancel-new", Name: "web"}})()).To(BeFalse())
	})

	It("copies a PV with rsync while the app runs, then what changed after quiesce", copyVolume)

	It("moves a volume into a renamed claim with a state migration, and refuses a stage of it", migrateStateIntoARenamedClaim)

	It("stages a PV with the transfer image built by hack/images, run from its own root", stageWithTheTransferImage)

	It("migrates from a terminal with the ferry CLI: cluster add, plan create, stage, cutover with live bars", migrateWithTheCLI)

	It("reaches a source cluster behind a firewall through ferry tunnel-api, and survives losing the client agent", reachThroughTheTunnel)

	It("cuts over a volume with checksum verification and a health check, then rolls back: the destination claim and data go, the source stays",
		verifyThenRollBack)

	It("cuts over an app with a volume into another namespace of the same cluster", migrateWithinTheCluster)

	It("converts the storage class of a running Deployment's and StatefulSet's volumes within one cluster, then rolls back", convertStorageThenRollBack)

	It("cancels a storage conversion while its StatefulSet is recreated: the StatefulSet runs again, nothing temporary left", cancelConversionDuringTheSwap)

	It("serves metrics only to an authorized scraper, and they move with a migration", scrapeDuringAMigration)

	It("moves a PV on shared storage with a stage migration, then cuts over", moveVolume)

	It("stages, then cuts over, a volume through the replication repository (indirectVolumeMigration): contents, modes and owners identical; "+
		"a rollback deletes the Restores and their resource modifiers", migrateIndirectly)

	It("cancels a stage of an indirect plan during its volume's backup: no stage pod or stage label is left", cancelIndirectStage)

	It("ends SucceededWithWarnings naming what Velero could not restore", partialRestore)

	It("runs a hook at each phase, in order, on the right cluster, with the right environment", runHooksInOrder)

	It("fails the migration with the hook's log when a hook exits non-zero, starts the source app again, and ferry describe and must-gather explain it",
		failingHook("hookfail", "hooks.example/fail:1", 0, "cannot reach the database",
			explainedFromTheTerminal("PostBackupHooks", "cannot reach the database")))

	It("fails the migration when a hook outlives its deadline", failingHook("hookslow", "hooks.example/slow:1", 15, "DeadlineExceeded"))

	It("runs an Ansible playbook hook with its playbook mounted from a ConfigMap", playbookHook)

	It("rolls back into a namespace with objects of its own, deleting only what the migration restored", rollbackKeepsPreexistingObjects)

	It("refuses to copy into a destination PVC no migration created, until the plan opts in", refuseExistingDestinationPVC)

	It("finishes a cutover although a conflicting plan appears while it runs", finishDespiteAConflictingPlan)

	It("cancels a plan's cutover without starting what another plan's cutover stopped", cancelLeavesAnotherPlansCutover)

	It("cancels a cutover whose plan is deleted while its volume is copied, then lets both go", deletePlanDuringTheDVM)

	It("cancels a cutover whose migration is deleted during the restore, then lets it go", deleteMigrationDuringTheRestore)

	It("finishes a cutover after the operator is killed at each step, with no duplicate backup or restore", killDuringCutover)

	It("fails the migration with Velero's reason when the bucket is unavailable, and starts the source app again", failVelero)

	It("stages, then cuts over, the images of an ImageStream registry to registry, and runs them from the destination registry", migrateImages)

	It("keeps the ImageStream objects without copying images when disable_image_copy is set", keepImageStreamsWithoutCopy)

	It("refuses a token that may not pull images up front, and fails a cutover whose registry refuses the token, starting the source app again",
		failImagesWithWrongRegistryCredentials)

	It("cuts over a writing app with warm sync: the delta moves while it runs, the copy is identical, the downtime shorter than without",
		cutOverWithAndWithoutWarmSync)
})
