package migration_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// partialRestore cuts over an app while the destination refuses one of its ConfigMaps: the
// migration succeeds with a warning that names the refused object.
func partialRestore() {
	d := env.Destination.Client
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-internal"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: `!(object.metadata.namespace == "partial-new" && object.metadata.name == "internal")`,
				Message:    "internal settings stay on the source",
			}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-internal"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: "deny-internal", ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	Expect(d.Create(ctx, policy)).To(Succeed())
	Expect(d.Create(ctx, binding)).To(Succeed())
	DeferCleanup(func() {
		Expect(d.Delete(ctx, binding)).To(Succeed())
		Expect(d.Delete(ctx, policy)).To(Succeed())
	})
	Expect(d.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "partial-new"}})).To(Succeed())
	Eventually(func() bool {
		probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "partial-new", Name: "internal"}}
		err := d.Create(ctx, probe, client.DryRunAll)
		return apierrors.IsInvalid(err) || apierrors.IsForbidden(err)
	}).Should(BeTrue(), "the admission policy is in force")

	app("partial", 1)
	plan := readyPlan("partial", []string{"partial:partial-new"}, nil)
	m := completed(migrate("partial-final", plan, migv1.MigMigrationSpec{}), 3*time.Minute)
	Expect(m.Status.Errors).To(BeEmpty())
	Expect(hasCondition(m, migv1.SucceededWithWarnings)).To(BeTrue(), "conditions: %v", m.Status.Conditions)
	warning := conditions.Find(m.Status.Conditions, migv1.VeleroFinalRestorePartiallyFailed)
	Expect(warning).NotTo(BeNil())
	GinkgoWriter.Printf("warning: %s\n", warning.Message)
	Expect(warning.Message).To(And(ContainSubstring("internal"), ContainSubstring("internal settings stay on the source")),
		"the warning names what failed and why")
	Expect(exists(d, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "partial-new", Name: "web-config"}})()).To(BeTrue())
}
