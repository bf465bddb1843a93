package migration_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// moveVolume migrates an app whose PV is on storage both clusters reach (the storage class
// is listed in mig_pv_move_storageclasses): a stage migration moves the PV and its claim,
// the cutover moves the app, and the destination claim binds to the same storage.
func moveVolume() {
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migration-controller"},
		Spec: migv1.MigrationControllerSpec{MigPVMoveStorageClasses: []string{fixtures.StorageClass}}}
	Expect(env.Destination.Client.Create(ctx, mc)).To(Succeed())
	DeferCleanup(func() { Expect(env.Destination.Client.Delete(ctx, mc)).To(Succeed()) })

	app("movers", 1)
	pv, pvc := fixtures.BoundVolume("movers", "data", "pv-movers", "1Gi")
	pv.Spec.Local.Path = GinkgoT().TempDir()
	Expect(env.Source.Client.Create(ctx, pv)).To(Succeed())
	Expect(env.Source.Client.Create(ctx, pvc)).To(Succeed())
	Expect(fixtures.WaitBound(ctx, env.Source.Client, 1, time.Minute)).To(Succeed())

	plan := readyPlan("movers", []string{"movers:movers-new"}, nil)
	Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(plan), plan)).To(Succeed())
		g.Expect(plan.Spec.PersistentVolumes).To(HaveLen(1))
		g.Expect(plan.Spec.PersistentVolumes[0].Supported.Actions).To(ContainElement("move"))
	}).Should(Succeed())
	patch := client.MergeFrom(plan.DeepCopy())
	plan.Spec.PersistentVolumes[0].Selection.Action = migv1.PvMoveAction
	Expect(env.Destination.Client.Patch(ctx, plan, patch)).To(Succeed())
	Expect(fixtures.WaitReady(ctx, env.Destination.Client, time.Minute, plan)).To(Succeed())

	stage := completed(migrate("movers-stage", plan, migv1.MigMigrationSpec{Stage: true, KeepAnnotations: true}), 3*time.Minute)
	Expect(stage.Status.Errors).To(BeEmpty())
	Expect(hasCondition(stage, migv1.StageNoOp)).To(BeFalse())
	kept := &corev1.PersistentVolumeClaim{}
	Expect(env.Source.Client.Get(ctx, client.ObjectKey{Namespace: "movers", Name: "data"}, kept)).To(Succeed())
	Expect(kept.Labels).To(HaveKey("migration-included-stage-backup"), "keepAnnotations keeps the stage marks")
	Expect(kept.Annotations).To(HaveKeyWithValue("openshift.io/migrate-type", "move"))
	moved := &corev1.PersistentVolume{}
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Name: "pv-movers"}, moved)).To(Succeed(), "the stage migration moved the PV")
	Expect(moved.Spec.Local.Path).To(Equal(pv.Spec.Local.Path), "same storage on both clusters")

	final := completed(migrate("movers-final", plan, migv1.MigMigrationSpec{QuiescePods: true}), 3*time.Minute)
	Expect(final.Status.Errors).To(BeEmpty())
	claim := &corev1.PersistentVolumeClaim{}
	Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: "movers-new", Name: "data"}, claim)).To(Succeed())
		g.Expect(claim.Status.Phase).To(Equal(corev1.ClaimBound))
		g.Expect(claim.Spec.VolumeName).To(Equal("pv-movers"))
	}).Should(Succeed())
	Expect(replicasOf(env.Destination.Client, "movers-new")()).To(Equal(int32(1)))

	source := &corev1.PersistentVolume{}
	Expect(env.Source.Client.Get(ctx, client.ObjectKey{Name: "pv-movers"}, source)).To(Succeed())
	Expect(source.Spec.PersistentVolumeReclaimPolicy).To(Equal(corev1.PersistentVolumeReclaimRetain), "a moved volume outlives the source claim")
	Expect(source.Labels).NotTo(HaveKey("migration-included-stage-backup"), "stage marks are removed")
}
