package migration_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// cancelLeavesAnotherPlansCutover: plan B cuts a namespace over (its source stays scaled
// down) and is closed; plan A then migrates the same namespace elsewhere and is canceled after
// it quiesced the source. A's cancel starts what A stopped and nothing that B stopped: B's
// application must not run on the source and the destination at once.
func cancelLeavesAnotherPlansCutover() {
	const name = "shared"
	app(name, 2)
	src, d := env.Source.Client, env.Destination.Client
	planB := readyPlan(name+"-b", []string{name + ":" + name + "-b"}, nil)
	final := completed(migrate(name+"-b-final", planB, migv1.MigMigrationSpec{QuiescePods: true}), 3*time.Minute)
	Expect(final.Status.Errors).To(BeEmpty())
	Expect(replicasOf(src, name)()).To(Equal(int32(0)), "plan B's cutover stopped the source")
	patch := client.MergeFrom(planB.DeepCopy())
	planB.Spec.Closed = true
	Expect(d.Patch(ctx, planB, patch)).To(Succeed())

	By("starting a workload in the namespace after B's cutover")
	labels := map[string]string{"app": "extra"}
	extra := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "extra"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "extra", Image: "registry.example/extra:1", Command: serve}}}},
	}}
	Expect(src.Create(ctx, extra)).To(Succeed())

	planA := readyPlan(name+"-a", []string{name + ":" + name + "-a"}, nil)
	m := migrate(name+"-a-final", planA, migv1.MigMigrationSpec{QuiescePods: true})
	m = waitForPhase(m, "EnsureSrcQuiesced", "EnsureInitialBackupReplicated", "EnsureFinalRestore", "FinalRestoreCreated")
	Eventually(func() (int32, error) {
		got := &appsv1.Deployment{}
		err := src.Get(ctx, client.ObjectKeyFromObject(extra), got)
		return ptr.Deref(got.Spec.Replicas, 1), err
	}).Should(BeZero(), "plan A quiesced the new workload")
	By("canceling plan A's migration at " + m.Status.Phase)
	patch = client.MergeFrom(m.DeepCopy())
	m.Spec.Canceled = true
	Expect(d.Patch(ctx, m, patch)).To(Succeed())
	m = completed(m, 3*time.Minute)
	Expect(hasCondition(m, migv1.Canceled)).To(BeTrue(), "conditions: %v", m.Status.Conditions)

	got := &appsv1.Deployment{}
	Expect(src.Get(ctx, client.ObjectKeyFromObject(extra), got)).To(Succeed())
	Expect(ptr.Deref(got.Spec.Replicas, 1)).To(Equal(int32(1)), "what plan A stopped runs again")
	Expect(replicasOf(src, name)()).To(Equal(int32(0)), "what plan B stopped for its cutover stays stopped")
	Expect(replicasOf(d, name+"-b")()).To(Equal(int32(2)), "plan B's application runs on the destination only")
}
