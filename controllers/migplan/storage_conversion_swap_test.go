package migplan_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
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
		labels := map[string]string{"app": "db"}
		create(host, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "db", Image: "db", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}}}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			}}},
		}})
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
