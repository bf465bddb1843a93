package migplan_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

var _ = Describe("MigPlan hooks", func() {
	It("is Ready with a valid hook and blocked while the hook is not", func() {
		hook := &migv1.MigHook{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "record"},
			Spec: migv1.MigHookSpec{Custom: true, Image: "registry.example.com/hooks/record:1.0", TargetCluster: "source"}}
		create(destination, hook)
		sourceApp("forum", "threads")
		plan := newPlan("forum", "forum")
		updatePlan(plan, func(p *migv1.MigPlan) {
			p.Spec.Hooks = []migv1.MigPlanHook{{Reference: &corev1.ObjectReference{Namespace: opNamespace, Name: "record"},
				Phase: migv1.HookPhasePreBackup, ExecutionNamespace: "forum", ServiceAccount: "default"}}
		})
		Eventually(planCondition(plan, migv1.Ready), time.Minute).Should(beTrue)

		Eventually(func() error {
			Expect(destination.Client.Get(ctx, client.ObjectKeyFromObject(hook), hook)).To(Succeed())
			hook.Spec.Image = "Not a valid image!"
			return destination.Client.Update(ctx, hook)
		}).Should(Succeed())
		Eventually(planCondition(plan, migv1.HookNotReady)).Should(And(beTrue, HaveField("Message", ContainSubstring("record"))))
		Expect(planCondition(plan, migv1.Ready)()).To(BeNil())

		Expect(destination.Client.Delete(ctx, plan)).To(Succeed())
		Eventually(func() error {
			return destination.Client.Get(ctx, client.ObjectKeyFromObject(plan), &migv1.MigPlan{})
		}).Should(MatchError(ContainSubstring("not found")))
	})
})
