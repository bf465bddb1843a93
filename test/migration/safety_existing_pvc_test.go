package migration_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// refuseExistingDestinationPVC cuts over an app whose PVC has a namesake in the destination
// namespace that no migration created: the plan warns, the migration fails without touching
// it (the source app runs again), and once the plan opts in, a new migration copies into it.
func refuseExistingDestinationPVC() {
	const name, dest = "occupied", "occupied-new"
	appWithVolume(name, 1)

	By("giving the destination namespace an unrelated PVC data that holds a file")
	d := env.Destination.Client
	Expect(d.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: dest}})).To(Succeed())
	unrelated := GinkgoT().TempDir()
	Expect(os.Chmod(unrelated, 0o777)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(unrelated, "precious.db"), []byte("someone else's data\n"), 0o666)).To(Succeed())
	pv, pvc := fixtures.BoundVolume(dest, "data", "pv-"+dest+"-unrelated", "1Gi")
	pv.Spec.Local.Path = unrelated
	Expect(d.Create(ctx, pv)).To(Succeed())
	Expect(d.Create(ctx, pvc)).To(Succeed())
	waitBound(d, pvc)

	plan := readyPlan(name, []string{name + ":" + dest}, nil)
	Eventually(func(g Gomega) {
		g.Expect(d.Get(ctx, client.ObjectKeyFromObject(plan), plan)).To(Succeed())
		w := conditions.Find(plan.Status.Conditions, migv1.DestinationPVCsExist)
		g.Expect(w).NotTo(BeNil(), "conditions %v", plan.Status.Conditions)
		g.Expect(w.Category).To(Equal(migv1.CategoryWarn))
		g.Expect(w.Message).To(ContainSubstring(dest + "/data"))
	}).Should(Succeed(), "the plan warns before anything runs")

	refused := completed(migrate(name+"-refused", plan, migv1.MigMigrationSpec{QuiescePods: true}), 4*time.Minute)
	Expect(refused.Status.Itinerary).To(Equal("Failed"))
	Expect(refused.Status.Errors).To(ContainElement(And(ContainSubstring(dest+"/data"), ContainSubstring(migv1.ReuseExistingDestinationPVCsAnnotation))))
	Expect(os.ReadFile(filepath.Join(unrelated, "precious.db"))).To(Equal([]byte("someone else's data\n")))
	Expect(filepath.Join(unrelated, "file-00")).NotTo(BeAnExistingFile(), "nothing was copied")
	dvms := &migv1.DirectVolumeMigrationList{}
	Expect(d.List(ctx, dvms, client.InNamespace(ns), client.MatchingLabels{"migration-direct-volume": string(refused.UID)})).To(Succeed())
	Expect(dvms.Items).To(HaveLen(1))
	Expect(dvms.Items[0].Status.RsyncOperations).To(BeEmpty(), "no rsync client pod was created")
	Expect(replicasOf(env.Source.Client, name)()).To(Equal(int32(1)), "the source app runs again")

	By("opting in on the plan")
	patch := client.MergeFrom(plan.DeepCopy())
	plan.Annotations = map[string]string{migv1.ReuseExistingDestinationPVCsAnnotation: "true"}
	Expect(d.Patch(ctx, plan, patch)).To(Succeed())
	copied := completed(migrate(name+"-copied", plan, migv1.MigMigrationSpec{QuiescePods: true}), 4*time.Minute)
	Expect(copied.Status.Errors).To(BeEmpty())
	Expect(copied.Status.Itinerary).To(Equal("Final"))
	Expect(os.ReadFile(filepath.Join(unrelated, "file-00"))).To(Equal([]byte("content 0\n")))
	Expect(conditions.Find(copied.Status.Conditions, migv1.RsyncServerPodsRunningAsNonRoot)).NotTo(BeNil(),
		"a non-root copy says what it did not keep: conditions %v", copied.Status.Conditions)
}

// finishDespiteAConflictingPlan creates, mid-cutover, a second plan over the same namespace:
// both plans are in conflict (not Ready), which must not stop the migration that runs.
func finishDespiteAConflictingPlan() {
	const name = "steady"
	app(name, 2)
	bulk(name, 100)
	plan := readyPlan(name, []string{name + ":" + name + "-new"}, nil)
	m := migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true})
	m = waitForPhase(m, "QuiesceSourceApplications", "EnsureSrcQuiesced", "EnsureInitialBackupReplicated", "EnsureFinalRestore")
	By("creating a conflicting plan at " + m.Status.Phase)
	rival := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-rival"}, Spec: migv1.MigPlanSpec{
		Namespaces:        []string{name},
		SrcMigClusterRef:  fixtures.Ref(ns, fixtures.SourceCluster),
		DestMigClusterRef: fixtures.Ref(ns, fixtures.HostCluster),
		MigStorageRef:     fixtures.Ref(ns, fixtures.Storage),
	}}
	d := env.Destination.Client
	Expect(d.Create(ctx, rival)).To(Succeed())
	DeferCleanup(func() { Expect(d.Delete(ctx, rival)).To(Succeed()) })
	Eventually(func(g Gomega) {
		g.Expect(d.Get(ctx, client.ObjectKeyFromObject(plan), plan)).To(Succeed())
		g.Expect(conditions.IsTrue(plan.Status.Conditions, migv1.PlanConflict)).To(BeTrue(), "conditions %v", plan.Status.Conditions)
		g.Expect(conditions.IsTrue(plan.Status.Conditions, migv1.Ready)).To(BeFalse())
	}).Should(Succeed(), "the plan of the running migration is in conflict")

	got := completed(m, 3*time.Minute)
	Expect(got.Status.Errors).To(BeEmpty())
	Expect(hasCondition(got, migv1.Succeeded)).To(BeTrue(), "conditions: %v", got.Status.Conditions)
	Expect(hasCondition(got, migv1.PlanNotReady)).To(BeFalse())
	Expect(replicasOf(d, name+"-new")()).To(Equal(int32(2)))
}
