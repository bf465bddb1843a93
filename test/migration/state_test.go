package migration_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// migrateStateIntoARenamedClaim renames a plan's claim (pvc.name "data:data-renamed") and
// moves it with a state migration (migrateState), as MTC does with PVC mappings: the plan
// becomes a state migration plan, the state migration copies the volume into the renamed
// claim of the mapped namespace, byte for byte, without creating a claim under the old name,
// and a stage of the plan is refused.
func migrateStateIntoARenamedClaim() {
	const name = "renamed"
	dir := GinkgoT().TempDir()
	Expect(fixtures.FillFiles(dir, "file", 4, 1<<20)).To(Succeed())
	appWithRootVolume(name, dir)
	plan := readyPlan(name, []string{name + ":" + name + "-new"}, nil)
	Expect(plan.Spec.PersistentVolumes).To(HaveLen(1))

	By("renaming the claim on the plan")
	d := env.Destination.Client
	Eventually(func() error {
		if err := d.Get(ctx, client.ObjectKeyFromObject(plan), plan); err != nil {
			return err
		}
		plan.Spec.PersistentVolumes[0].PVC.Name = "data:data-renamed"
		return d.Update(ctx, plan)
	}).Should(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(d.Get(ctx, client.ObjectKeyFromObject(plan), plan)).To(Succeed())
		typed := conditions.Find(plan.Status.Conditions, migv1.MigrationTypeIdentified)
		g.Expect(typed).NotTo(BeNil(), "conditions %v", plan.Status.Conditions)
		g.Expect(typed.Reason).To(Equal(migv1.StateMigrationPlan))
		g.Expect(conditions.Find(plan.Status.Conditions, migv1.Ready)).NotTo(BeNil(), "conditions %v", plan.Status.Conditions)
		g.Expect(plan.Spec.PersistentVolumes).To(HaveLen(1))
		g.Expect(plan.Spec.PersistentVolumes[0].PVC.Name).To(Equal("data:data-renamed"), "a refresh keeps the rename")
	}).Should(Succeed())

	By("the state migration copies the volume into the renamed claim")
	state := completed(migrate(name+"-state", plan, migv1.MigMigrationSpec{MigrateState: true, RunAsRoot: ptr.To(true)}), 4*time.Minute)
	Expect(state.Status.Errors).To(BeEmpty())
	Expect(hasCondition(state, migv1.Succeeded)).To(BeTrue(), "conditions: %v", state.Status.Conditions)
	copied, err := fixtures.VolumeDir(ctx, d, name+"-new", "data-renamed")
	Expect(err).NotTo(HaveOccurred())
	Expect(checksums(copied)).To(Equal(checksums(dir)), "the renamed claim holds the volume's files")
	Expect(d.Get(ctx, client.ObjectKey{Namespace: name + "-new", Name: "data"}, &corev1.PersistentVolumeClaim{})).
		To(MatchError(ContainSubstring("not found")), "no claim under the old name")

	By("a stage of the renamed claim is refused, as in MTC: a plan that renames claims moves them by state migrations")
	stage := migrate(name+"-stage", plan, migv1.MigMigrationSpec{Stage: true, RunAsRoot: ptr.To(true)})
	Eventually(func(g Gomega) {
		g.Expect(d.Get(ctx, client.ObjectKeyFromObject(stage), stage)).To(Succeed())
		invalid := conditions.Find(stage.Status.Conditions, migv1.InvalidSpec)
		g.Expect(invalid).NotTo(BeNil(), "conditions %v", stage.Status.Conditions)
		g.Expect(invalid.Message).To(ContainSubstring("Please remove PVC mappings"))
	}).Should(Succeed())
	Expect(d.Delete(ctx, stage)).To(Succeed())
}
