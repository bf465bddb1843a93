package migplan

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// refKey returns namespace/name of a reference (namespace defaulting to the plan's), and
// false when the reference is empty.
func refKey(ref *corev1.ObjectReference, defaultNamespace string) (types.NamespacedName, bool) {
	if ref == nil || ref.Name == "" {
		return types.NamespacedName{}, false
	}
	ns := ref.Namespace
	if ns == "" {
		ns = defaultNamespace
	}
	return types.NamespacedName{Namespace: ns, Name: ref.Name}, true
}

// clusterSide names the source or destination in condition types and messages.
type clusterSide struct {
	invalidRef, notReady, field string
}

var (
	sourceSide      = clusterSide{migv1.InvalidSourceClusterRef, migv1.SourceClusterNotReady, "srcMigClusterRef"}
	destinationSide = clusterSide{migv1.InvalidDestinationClusterRef, migv1.DestinationClusterNotReady, "dstMigClusterRef"}
)

// validateClusterRef checks one cluster reference: set, found, Ready.
func validateClusterRef(side clusterSide, ref *corev1.ObjectReference, planNamespace string, found *migv1.MigCluster) []migv1.Condition {
	key, ok := refKey(ref, planNamespace)
	switch {
	case !ok:
		return []migv1.Condition{conditions.Critical(side.invalidRef, migv1.NotSet,
			fmt.Sprintf("The `%s` must reference a valid `migcluster`.", side.field))}
	case found == nil:
		return []migv1.Condition{conditions.Critical(side.invalidRef, migv1.NotFound,
			fmt.Sprintf("The `%s` must reference a valid `migcluster`, subject: %s.", side.field, key))}
	case !conditions.IsTrue(found.Status.Conditions, migv1.Ready):
		return []migv1.Condition{conditions.Critical(side.notReady, "",
			fmt.Sprintf("The referenced `%s` does not have a `Ready` condition, subject: %s.", side.field, key))}
	}
	return nil
}

// validateStorageRef checks the MigStorage reference: set, found, Ready.
func validateStorageRef(ref *corev1.ObjectReference, planNamespace string, found *migv1.MigStorage) []migv1.Condition {
	key, ok := refKey(ref, planNamespace)
	switch {
	case !ok:
		return []migv1.Condition{conditions.Critical(migv1.InvalidStorageRef, migv1.NotSet,
			"The `spec.migStorageRef` must reference a valid `migstorage`.")}
	case found == nil:
		return []migv1.Condition{conditions.Critical(migv1.InvalidStorageRef, migv1.NotFound,
			fmt.Sprintf("The `spec.migStorageRef` must reference a valid `migstorage`, subject: %s.", key))}
	case !conditions.IsTrue(found.Status.Conditions, migv1.Ready):
		return []migv1.Condition{conditions.Critical(migv1.StorageNotReady, "",
			fmt.Sprintf("The referenced `migStorageRef` does not have a `Ready` condition, subject: %s.", key))}
	}
	return nil
}

var hookPhases = []string{migv1.HookPhasePreBackup, migv1.HookPhasePostBackup, migv1.HookPhasePreRestore, migv1.HookPhasePostRestore}

// validateHooks checks spec.hooks: references, names, readiness, phases (one hook per phase),
// and that each hook's Job runs in a namespace the plan may use on the hook's cluster
// (mapping.HookNamespaces). hooks holds the MigHooks that exist, by namespace/name.
func validateHooks(plan *migv1.MigPlan, hooks map[types.NamespacedName]*migv1.MigHook) []migv1.Condition {
	var missing, notReady, badNS, notAllowedNS, badSA, unknownPhase, dupPhase []string
	seenPhase := map[string]bool{}
	for _, h := range plan.Spec.Hooks {
		key, ok := refKey(h.Reference, plan.Namespace)
		hook := hooks[key]
		switch {
		case !ok:
			missing = append(missing, "(unnamed)")
		case hook == nil:
			missing = append(missing, key.String())
		case !conditions.IsTrue(hook.Status.Conditions, migv1.Ready):
			notReady = append(notReady, key.String())
		}
		switch {
		case len(validation.IsDNS1123Label(h.ExecutionNamespace)) > 0:
			badNS = append(badNS, fmt.Sprintf("%q", h.ExecutionNamespace))
		case hook != nil && !slices.Contains(mapping.HookNamespaces(plan, hook.Spec.TargetCluster), h.ExecutionNamespace):
			notAllowedNS = append(notAllowedNS, fmt.Sprintf("%s runs on the %s cluster in %q, allowed: %s", key.Name,
				hookTarget(hook), h.ExecutionNamespace, strings.Join(mapping.HookNamespaces(plan, hook.Spec.TargetCluster), ", ")))
		}
		if len(validation.IsDNS1123Subdomain(h.ServiceAccount)) > 0 {
			badSA = append(badSA, fmt.Sprintf("%q", h.ServiceAccount))
		}
		switch {
		case !slices.Contains(hookPhases, h.Phase):
			unknownPhase = append(unknownPhase, fmt.Sprintf("%q", h.Phase))
		case seenPhase[h.Phase]:
			dupPhase = append(dupPhase, h.Phase)
		}
		seenPhase[h.Phase] = true
	}
	var out []migv1.Condition
	add := func(items []string, c migv1.Condition) {
		if len(items) > 0 {
			c.Message = fmt.Sprintf("%s [%s]", c.Message, strings.Join(items, ", "))
			out = append(out, c)
		}
	}
	add(missing, conditions.Critical(migv1.InvalidHookRef, migv1.NotFound, "One or more referenced hooks do not exist:"))
	add(notReady, conditions.Critical(migv1.HookNotReady, "", "One or more referenced hooks are not ready:"))
	add(badNS, conditions.Critical(migv1.InvalidHookNSName, migv1.NotDNSCompliant,
		"The executionNamespace of one or more hooks is not a valid namespace name:"))
	add(notAllowedNS, conditions.Critical(migv1.InvalidHookNSName, migv1.NotSupported,
		"A hook Job may run only in the plan's namespaces on the hook's cluster (source namespaces for a source hook, "+
			"destination namespaces for a destination hook) or in the plan's own namespace; not allowed:"))
	add(badSA, conditions.Critical(migv1.InvalidHookSAName, migv1.NotDNSCompliant,
		"The serviceAccount of one or more hooks is not a valid service account name:"))
	add(unknownPhase, conditions.Critical(migv1.HookPhaseUnknown, migv1.NotSupported,
		"Hook phases must be PreBackup, PostBackup, PreRestore or PostRestore; found:"))
	add(dupPhase, conditions.Critical(migv1.HookPhaseDuplicate, migv1.NotDistinct,
		"Only one hook may be specified per phase; duplicated:"))
	return out
}

// hookTarget names the cluster a hook runs on (MigHook validation refuses other values).
func hookTarget(hook *migv1.MigHook) string {
	if hook.Spec.TargetCluster == migv1.HookTargetDestination {
		return migv1.HookTargetDestination
	}
	return migv1.HookTargetSource
}
