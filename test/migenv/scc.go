package migenv

import (
	"context"
	"fmt"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/transfer"
)

// sccRangesPolicy is the name of the admission policy that enforces OpenShift's per-namespace
// user and group ranges on the local clusters.
const sccRangesPolicy = "openshift-scc-ranges"

// sccRanges returns a ValidatingAdmissionPolicy, and its binding, that refuse what OpenShift's
// restricted SCC refuses in a namespace annotated with openshift.io/sa.scc.uid-range (and
// .../supplemental-groups): a pod whose runAsUser (pod or container) lies outside the UID range,
// or whose fsGroup lies outside the first group range. Like OpenShift, a pod that names no
// user is admitted (OpenShift would assign the first of the range; here the image's user
// runs). Namespaces without the annotations are not affected.
func sccRanges() (*admissionv1.ValidatingAdmissionPolicy, *admissionv1.ValidatingAdmissionPolicyBinding) {
	inRange := func(value, rangeVar string) string {
		return fmt.Sprintf("%[1]s >= int(variables.%[2]s[0]) && %[1]s < int(variables.%[2]s[0]) + int(variables.%[2]s[1])", value, rangeVar)
	}
	runAsUsers := func(field string) string {
		return fmt.Sprintf("(has(object.spec.%[1]s) ? object.spec.%[1]s.filter(c, has(c.securityContext) && has(c.securityContext.runAsUser))"+
			".map(c, c.securityContext.runAsUser) : [])", field)
	}
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: sccRangesPolicy},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
				},
			}}},
			Variables: []admissionv1.Variable{
				{Name: "annotations", Expression: "has(namespaceObject.metadata.annotations) ? namespaceObject.metadata.annotations : {}"},
				{Name: "uids", Expression: fmt.Sprintf("'%[1]s' in variables.annotations ? variables.annotations['%[1]s'].split(',')[0].split('/') : []", transfer.UIDRangeAnnotation)},
				{Name: "groups", Expression: fmt.Sprintf("'%[1]s' in variables.annotations ? variables.annotations['%[1]s'].split(',')[0].split('/') : variables.uids", transfer.SupplementalGroupsAnnotation)},
				{Name: "users", Expression: "(has(object.spec.securityContext) && has(object.spec.securityContext.runAsUser) ? [object.spec.securityContext.runAsUser] : [])" +
					" + " + runAsUsers("containers") + " + " + runAsUsers("initContainers")},
			},
			Validations: []admissionv1.Validation{
				{
					Expression:        "size(variables.uids) != 2 || variables.users.all(u, " + inRange("u", "uids") + ")",
					MessageExpression: fmt.Sprintf("'unable to validate against any security context constraint: runAsUser is not in the namespace range ' + variables.annotations['%s']", transfer.UIDRangeAnnotation),
				},
				{
					Expression: "size(variables.groups) != 2 || !has(object.spec.securityContext) || !has(object.spec.securityContext.fsGroup) || " +
						inRange("object.spec.securityContext.fsGroup", "groups"),
					MessageExpression: "'unable to validate against any security context constraint: fsGroup ' + string(object.spec.securityContext.fsGroup) + ' is not in the namespace range ' + variables.groups[0] + '/' + variables.groups[1]",
				},
			},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: sccRangesPolicy},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        sccRangesPolicy,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
		},
	}
	return policy, binding
}

// enforceSCCRanges installs sccRanges on a cluster.
func enforceSCCRanges(ctx context.Context, c client.Client) error {
	policy, binding := sccRanges()
	for _, obj := range []client.Object{policy, binding} {
		if err := c.Create(ctx, obj); client.IgnoreAlreadyExists(err) != nil {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}
