package migrationcontroller_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// condition returns the current condition t of the MigrationController mc.
func condition(mc *migv1.MigrationController, t string) func() *migv1.Condition {
	return func() *migv1.Condition {
		got := &migv1.MigrationController{}
		if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(mc), got); err != nil || got.Status.ObservedGeneration != got.Generation {
			return &migv1.Condition{Type: "not observed yet"}
		}
		return conditions.Find(got.Status.Conditions, t)
	}
}

var _ = Describe("MigrationController status", Ordered, func() {
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "migration-controller"}}

	It("names invalid values and settings Ferry does not act on, and clears them when fixed", func() {
		mc.Spec = migv1.MigrationControllerSpec{
			RsyncOptBwlimit:   ptr.To(intstr.FromString("fast")),
			StunnelVerifyCA:   ptr.To(false),
			JaegerEnabled:     true,
			RsyncEndpointType: migv1.RsyncEndpointNodePort,
		}
		Expect(cp.Client.Create(ctx, mc)).To(Succeed())
		Eventually(condition(mc, migv1.Running)).Should(And(HaveField("Status", migv1.True), HaveField("Reason", migv1.Successful),
			HaveField("Message", ContainSubstring("rsync endpoint NodePort"))))
		Eventually(condition(mc, migv1.InvalidSettings)).Should(And(HaveField("Category", migv1.CategoryWarn),
			HaveField("Message", ContainSubstring(`rsync_opt_bwlimit: "fast" is not a number`))))
		Eventually(condition(mc, migv1.UnsupportedSettings)).Should(And(HaveField("Reason", migv1.NotSupported),
			HaveField("Message", And(ContainSubstring("stunnel_verify_ca: "), ContainSubstring("jaeger_enabled: ")))))

		Expect(cp.Client.Get(ctx, client.ObjectKeyFromObject(mc), mc)).To(Succeed())
		mc.Spec.RsyncOptBwlimit, mc.Spec.StunnelVerifyCA, mc.Spec.JaegerEnabled = ptr.To(intstr.FromInt32(1024)), nil, false
		Expect(cp.Client.Update(ctx, mc)).To(Succeed())
		Eventually(condition(mc, migv1.InvalidSettings)).Should(BeNil())
		Eventually(condition(mc, migv1.UnsupportedSettings)).Should(BeNil())
	})

	It("says which MigrationController is in force when there are several", func() {
		another := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "another"}}
		Expect(cp.Client.Create(ctx, another)).To(Succeed())
		Eventually(condition(another, migv1.Running)).Should(And(HaveField("Status", migv1.False), HaveField("Reason", migv1.NotInForce),
			HaveField("Message", ContainSubstring("MigrationController migration-controller apply"))))
		Expect(condition(mc, migv1.Running)()).To(HaveField("Status", migv1.True))

		By("deleting migration-controller: the other one is in force")
		Expect(cp.Client.Delete(ctx, mc)).To(Succeed())
		Eventually(condition(another, migv1.Running)).Should(And(HaveField("Status", migv1.True), HaveField("Reason", migv1.Successful)))
	})
})
