package migmigration_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/controllers/migmigration"
	"github.com/ferrymtc/ferry/test/fixtures"
)

var _ = Describe("SwapPVCReferences", func() {
	It("fails the conversion, changing nothing, when a StatefulSet grew a claim the plan does not convert", func() {
		c := host.Client
		const ns, fine = "swap-grown", "swap-fine"
		for _, n := range []string{ns, fine} {
			Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}})).To(Succeed())
		}
		By("a Deployment in a namespace swapped first, which could be pointed at its copy")
		web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: fine, Name: "web"}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "web", Image: "web"}},
				Volumes: []corev1.Volume{{Name: "logs", VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "logs"}}}}}},
		}}
		Expect(c.Create(ctx, web)).To(Succeed())
		set := fixtures.StatefulSet(ns, "db", "data", 0)
		Expect(c.Create(ctx, set)).To(Succeed())
		By("two claims of the set, of which the plan converts the first: the set was scaled up after the plan was checked")
		for i := range 2 {
			claim := set.Spec.VolumeClaimTemplates[0].DeepCopy()
			claim.Namespace, claim.Name = ns, fmt.Sprintf("data-db-%d", i)
			Expect(c.Create(ctx, claim)).To(Succeed())
		}
		plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: ns, UID: "plan-swap-grown"},
			Spec: migv1.MigPlanSpec{Namespaces: []string{fine, ns}, PersistentVolumes: []migv1.PV{
				{Name: "pv-logs", PVC: migv1.PVC{Namespace: fine, Name: "logs:logs-mig-abcd"}, Selection: migv1.Selection{Action: migv1.PvCopyAction}},
				{Name: "pv-0", PVC: migv1.PVC{Namespace: ns, Name: "data-db-0:data-mig-abcd-db-0"}, Selection: migv1.Selection{Action: migv1.PvCopyAction}},
			}}}
		m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: ns, UID: "mig-swap-grown"}}

		out, err := migmigration.SwapPVCReferences(ctx, c, host.Config, plan, m)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Fail).NotTo(BeNil(), "the phase fails the migration")
		Expect(out.Fail.Reason).To(Equal("SwapPVCReferencesFailed"))
		Expect(out.Fail.Message).To(ContainSubstring("claims data-db-1 of template data are not converted with the others"))

		Expect(c.Get(ctx, client.ObjectKeyFromObject(set), set)).To(Succeed())
		Expect(set.Spec.VolumeClaimTemplates).To(ConsistOf(HaveField("Name", "data")), "the set keeps its claim template")
		Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db-new"}, &appsv1.StatefulSet{})).NotTo(Succeed(), "no temporary set")
		claim := &corev1.PersistentVolumeClaim{}
		Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "data-db-0"}, claim)).To(Succeed())
		Expect(claim.Labels).NotTo(HaveKey(migv1.SourceForDirectVolumeMigrationLabel), "the claim is not marked as converted")
		Expect(c.Get(ctx, client.ObjectKeyFromObject(web), web)).To(Succeed())
		Expect(web.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName).To(Equal("logs"),
			"the other namespace's Deployment still mounts its original claim")
	})
})
