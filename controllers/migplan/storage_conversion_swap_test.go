package migplan_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/fixtures"
)

var _ = Describe("A storage conversion plan", func() {
	It("is not Ready while a StatefulSet's claims are only partly selected, and says which", func() {
		const ns = "conv"
		host := destination
		fast := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, Provisioner: "kubernetes.io/host-path"}
		create(host, fast)
		DeferCleanup(func() { Expect(host.Client.Delete(ctx, fast)).To(Succeed()) })
		create(host, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		create(host, fixtures.StatefulSet(ns, "db", "data", 2))
		for i := range 2 {
			pv, pvc := fixtures.BoundVolume(ns, fmt.Sprintf("data-db-%d", i), fmt.Sprintf("pv-conv-%d", i), "1Gi")
			create(host, pv)
			create(host, pvc)
		}
		plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "conv"}, Spec: migv1.MigPlanSpec{
			Namespaces:        []string{ns},
			SrcMigClusterRef:  &corev1.ObjectReference{Namespace: opNamespace, Name: "host"},
			DestMigClusterRef: &corev1.ObjectReference{Namespace: opNamespace, Name: "host"},
		}}
		create(host, plan)
		Eventually(func(g Gomega) {
			g.Expect(getPlan(plan).Spec.PersistentVolumes).To(HaveLen(2))
			g.Expect(planCondition(plan, migv1.Ready)()).To(beTrue)
		}, time.Minute).Should(Succeed(), "both claims of the set are converted")

		By("leaving out the second replica's claim")
		updatePlan(plan, func(p *migv1.MigPlan) {
			for i := range p.Spec.PersistentVolumes {
				if p.Spec.PersistentVolumes[i].PVC.Namespace == ns && p.Spec.PersistentVolumes[i].Name == "pv-conv-1" {
					p.Spec.PersistentVolumes[i].Selection.Action = migv1.PvSkipAction
				}
			}
		})
		Eventually(planCondition(plan, migv1.WorkloadsCannotSwapPVCs)).Should(And(beTrue,
			HaveField("Category", migv1.CategoryCritical),
			HaveField("Message", ContainSubstring("claims data-db-1 of template data are not converted with the others"))))
		Expect(planCondition(plan, migv1.Ready)()).To(BeNil())

		By("selecting it again")
		updatePlan(plan, func(p *migv1.MigPlan) {
			for i := range p.Spec.PersistentVolumes {
				p.Spec.PersistentVolumes[i].Selection.Action = migv1.PvCopyAction
			}
		})
		Eventually(planCondition(plan, migv1.Ready)).Should(beTrue)
		Expect(planCondition(plan, migv1.WorkloadsCannotSwapPVCs)()).To(BeNil())
		Expect(host.Client.Delete(ctx, plan)).To(Succeed())
		Eventually(func() error { return host.Client.Get(ctx, client.ObjectKeyFromObject(plan), plan) }, time.Minute).
			ShouldNot(Succeed(), "the plan is gone before the suite's other plans look at the host's storage classes")
	})
})
