package migration_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

var _ = Describe("A migration whose rsync client pod a ResourceQuota refuses", func() {
	It("shows the quota's message at once, and finishes once the quota is gone", func() {
		const name = "quota"
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "data"), []byte("payload\n"), 0o644)).To(Succeed())
		appWithRootVolume(name, dir)
		src := env.Source.Client
		plan := readyPlan(name, []string{name + ":" + name + "-new"}, nil)
		Expect(plan.Spec.PersistentVolumes).To(HaveLen(1))

		By("a quota of no new pods in the source namespace (the running app pod stays)")
		quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "no-new-pods"},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}}}
		Expect(src.Create(ctx, quota)).To(Succeed())
		m := migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true, RunAsRoot: ptr.To(true)})

		got := &migv1.MigMigration{}
		var seen time.Time
		Eventually(func(g Gomega) {
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
			// With warm sync (the default) the first copy, and so the refusal, comes before quiesce.
			g.Expect(got.Status.Phase).To(BeElementOf("WaitForDirectVolumeMigrationWarmToComplete", "WaitForDirectVolumeMigrationToComplete"))
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		waiting := time.Now()
		Eventually(func(g Gomega) {
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
			c := conditions.Find(got.Status.Conditions, migv1.DirectVolumeMigrationBlocked)
			g.Expect(c).NotTo(BeNil(), "phase %s, conditions %v", got.Status.Phase, got.Status.Conditions)
			g.Expect(c.Category).To(Equal(migv1.CategoryWarn))
			g.Expect(c.Message).To(SatisfyAll(ContainSubstring("exceeded quota"), ContainSubstring("no-new-pods")))
			seen = time.Now()
		}).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed())
		Expect(seen.Sub(waiting)).To(BeNumerically("<", 30*time.Second), "the refusal shows within seconds")
		dvm := &migv1.DirectVolumeMigration{}
		ref := got.Status.References
		for _, r := range ref {
			if r.Kind == "DirectVolumeMigration" {
				Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.Name}, dvm)).To(Succeed())
			}
		}
		c := conditions.Find(dvm.Status.Conditions, migv1.FailedCreatingRsyncPods)
		Expect(c).NotTo(BeNil(), "DVM conditions %v", dvm.Status.Conditions)
		Expect(c.Message).To(ContainSubstring("exceeded quota"))

		By("removing the quota: the transfer goes on")
		Expect(src.Delete(ctx, quota)).To(Succeed())
		done := completed(m, 3*time.Minute)
		Expect(done.Status.Errors).To(BeEmpty())
		Expect(hasCondition(done, migv1.Succeeded)).To(BeTrue(), "conditions: %v", done.Status.Conditions)
		Expect(checksums(destinationDataDir(name + "-new"))).To(Equal(checksums(dir)))
	})
})
