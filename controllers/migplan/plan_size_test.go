package migplan_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// A MigPlan lists its PVs in its spec, as MTC's does, and etcd stores at most 1.5 MiB per
// object: some 4,000 PVs. The suite's destination stores at most destinationObjectLimit
// (suite_test.go), so that a plan reaches the limit with a thousand PVs. They are on a source
// cluster of their own, without kube-controller-manager: its binder, slow with a thousand
// claims, would hold up the other specs' claims.
var _ = Describe("A MigPlan whose PVs do not fit in one object", func() {
	It("is not Ready and says why and what to do, then becomes Ready once its namespaces hold fewer", func() {
		const claims, kept = 1000, 100
		big, err := controlplane.Start("big-source")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(big.Stop)
		create(big, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: fixtures.StorageClass}, Provisioner: "kubernetes.io/host-path"})
		Expect(fixtures.RegisterRemote(ctx, destination, big, opNamespace, "big-source")).To(Succeed())
		names := boundClaims(big, "huge", claims)
		plan := newPlan("huge", "huge")
		// Ginkgo runs the top-level containers in random order: the plan (which holds the
		// shared MigStorage's locations) and the cluster go before the next spec, the plan
		// first, while the cluster it cleans up on still runs (cleanups run last-in first-out).
		DeferCleanup(func() {
			cluster := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "big-source"}}
			for _, obj := range []client.Object{plan, cluster} {
				Expect(client.IgnoreNotFound(destination.Client.Delete(ctx, obj))).To(Succeed())
				Eventually(func() error {
					return destination.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
				}).Should(MatchError(ContainSubstring("not found")), "%s is removed", obj.GetName())
			}
		})
		updatePlan(plan, func(p *migv1.MigPlan) { p.Spec.SrcMigClusterRef.Name = "big-source" })

		Eventually(planCondition(plan, migv1.PvListTooLarge), 2*time.Minute).Should(And(beTrue,
			HaveField("Category", migv1.CategoryCritical),
			HaveField("Message", And(ContainSubstring(fmt.Sprintf("The %d PVs", claims)), ContainSubstring("Split the namespaces over several plans")))))
		Expect(planCondition(plan, migv1.Ready)()).To(BeNil(), "a plan without its PVs is not Ready")
		Expect(getPlan(plan).Spec.PersistentVolumes).To(BeEmpty(), "the plan keeps the list it had")

		By("removing all but a hundred claims and refreshing the plan, as a user splitting it would")
		deleteClaims(big, "huge", names[kept:])
		updatePlan(plan, func(p *migv1.MigPlan) { p.Spec.Refresh = true })
		Eventually(planCondition(plan, migv1.Ready), 2*time.Minute).Should(beTrue)
		Expect(planCondition(plan, migv1.PvListTooLarge)()).To(BeNil())
		Expect(getPlan(plan).Spec.PersistentVolumes).To(HaveLen(kept))
	})
})

// boundClaims creates namespace ns on the source with n claims, each pre-bound to its own
// local PV and marked Bound (kube-controller-manager's binder would take minutes for a
// thousand), and returns the claim names.
func boundClaims(cp *controlplane.ControlPlane, ns string, n int) []string {
	GinkgoHelper()
	create(cp, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("data-%04d", i)
	}
	forEach(names, func(claim string) error {
		pv, pvc := fixtures.BoundVolume(ns, claim, "pv-"+ns+"-"+claim, "1Gi")
		for _, obj := range []client.Object{pv, pvc} {
			if err := cp.Client.Create(ctx, obj); err != nil {
				return err
			}
			if err := fixtures.MarkBound(ctx, cp.Client, obj); err != nil {
				return err
			}
		}
		return nil
	})
	return names
}

// deleteClaims deletes the claims of boundClaims and their PVs.
func deleteClaims(cp *controlplane.ControlPlane, ns string, claims []string) {
	GinkgoHelper()
	forEach(claims, func(claim string) error {
		for _, obj := range []client.Object{
			&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: claim}},
			&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-" + ns + "-" + claim}},
		} {
			if err := cp.Client.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
				return err
			}
			// Admission gave them the protection finalizers that kube-controller-manager
			// would remove, no pod using them.
			noFinalizers := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))
			if err := cp.Client.Patch(ctx, obj, noFinalizers); client.IgnoreNotFound(err) != nil {
				return err
			}
		}
		return nil
	})
}

// forEach runs fn for every item, eight at a time, and fails the spec on the first error.
func forEach(items []string, fn func(string) error) {
	GinkgoHelper()
	Expect(fixtures.Parallel(items, 8, fn)).To(Succeed())
}
