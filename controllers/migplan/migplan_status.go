package migplan

import (
	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// validate computes every validation condition of the plan from the facts.
func validate(f *facts) []migv1.Condition {
	plan := f.plan
	var out []migv1.Condition
	out = append(out, validateClusterRef(sourceSide, plan.Spec.SrcMigClusterRef, plan.Namespace, f.src)...)
	out = append(out, validateClusterRef(destinationSide, plan.Spec.DestMigClusterRef, plan.Namespace, f.dest)...)
	out = append(out, validatePrivileges(f.src, f.dest)...)
	typeConds := migrationType(plan, mapping.IntraCluster(f.src, f.dest), f.migrations)
	out = append(out, typeConds...)
	if planType(typeConds) != migv1.StorageConversionPlan {
		out = append(out, validateStorageRef(plan.Spec.MigStorageRef, plan.Namespace, f.storage)...)
	}
	out = append(out, validateNamespaces(plan.Spec.Namespaces, f.settings.NamespaceLimit)...)
	out = append(out, planConflict(conflictingPlans(plan, f.otherPlans, f.clusters))...)
	out = append(out, validateHooks(plan, f.hooks)...)
	out = append(out, validateLabelSelector(plan.Spec.LabelSelector)...)
	pairs, _ := parseNamespaces(plan.Spec.Namespaces)
	if f.source != nil {
		out = append(out, validateSource(f.source, sources(pairs), f.settings.VeleroNamespace, f.settings.PodLimit)...)
		out = append(out, validateProxySecret(sourceRole, f.source.extras.proxySecrets)...)
		out = append(out, validateRegistryPath(sourceRole, plan, planType(typeConds), f.src, f.source.extras)...)
	}
	if f.destination != nil {
		out = append(out, validateDestination(f.destination, f.settings.VeleroNamespace)...)
		out = append(out, validateProxySecret(destinationRole, f.destination.extras.proxySecrets)...)
		out = append(out, validateRegistryPath(destinationRole, plan, planType(typeConds), f.dest, f.destination.extras)...)
		out = append(out, validateNamespaceLength(plan, destinations(pairs), f.destination.extras,
			f.settings.RsyncEndpointType, f.settings.ClusterSubdomain)...)
	}
	out = append(out, gvksIncompatible(f.incompatible)...)
	return out
}

// carried returns the previous conditions of the given types, kept when the work that
// asserts them was skipped this time (suspension, or a blocker for storage).
func carried(previous migv1.Conditions, types ...string) []migv1.Condition {
	var out []migv1.Condition
	for _, t := range types {
		if c := conditions.Find(previous, t); c != nil {
			out = append(out, *c)
		}
	}
	return out
}

// pvConditionTypes are the conditions PV discovery and selection validation assert.
var pvConditionTypes = []string{
	migv1.PvsDiscovered, migv1.PvLimitExceeded, migv1.PvListTooLarge, migv1.PvWarnNoCephAvailable, migv1.PvInvalidAction,
	migv1.PvCapacityAdjustmentRequired, migv1.PvUsageAnalysisFailed,
	migv1.PvNoSupportedAction, migv1.PvNoStorageClassSelection, migv1.PvInvalidStorageClass,
	migv1.PvInvalidAccessMode, migv1.PvWarnAccessModeUnavailable, migv1.PvNoCopyMethodSelection,
	migv1.PvInvalidCopyMethod, migv1.PvWarnCopyMethodSnapshot, migv1.PvBlockCopyUnsupported,
	migv1.PvNameConflict, migv1.StorageClassConversionUnavailable, migv1.WorkloadsCannotSwapPVCs,
}

// withReady appends Ready when nothing blocks and discovery and storage are done.
func withReady(conds []migv1.Condition) []migv1.Condition {
	storageDone := conditions.IsTrue(conds, migv1.StorageEnsured) || planType(conds) == migv1.StorageConversionPlan
	if conditions.HasBlocker(conds) || !storageDone || !conditions.IsTrue(conds, migv1.PvsDiscovered) {
		return conds
	}
	return append(conds, conditions.Required(migv1.Ready, "", readyMessage))
}
