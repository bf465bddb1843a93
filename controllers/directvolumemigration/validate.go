package directvolumemigration

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// validate returns MTC's DVM validation conditions (all Critical) for what observe saw, plus
// Ferry's: a spec that would write two PVCs into one, clusters that cannot be reached, and a
// warning for a ClusterIP endpoint between two clusters.
func validate(o *observed) []migv1.Condition {
	var out []migv1.Condition
	spec := o.dvm.Spec
	out = append(out, conditions.ClusterRefConditions(conditions.ClusterRef{Which: "source", Unset: spec.SrcMigClusterRef == nil || spec.SrcMigClusterRef.Name == "",
		Cluster: o.src, ConnectErr: o.srcErr, InvalidType: migv1.InvalidSourceClusterRef, NotReadyType: migv1.SourceClusterNotReady})...)
	out = append(out, conditions.ClusterRefConditions(conditions.ClusterRef{Which: "destination", Unset: spec.DestMigClusterRef == nil || spec.DestMigClusterRef.Name == "",
		Cluster: o.dest, ConnectErr: o.destErr, InvalidType: migv1.InvalidDestinationClusterRef, NotReadyType: migv1.DestinationClusterNotReady})...)
	if len(spec.PersistentVolumeClaims) == 0 {
		out = append(out, conditions.Critical(migv1.InvalidPVCs, migv1.NotSet, "The set of persistent volume claims is empty."))
	}
	if msg := specProblems(o.dvm, sameCluster(o.src, o.dest)); msg != "" {
		out = append(out, conditions.Critical(migv1.InvalidSpec, migv1.NotSupported, msg))
	}
	if o.settings.RsyncEndpointType == migv1.RsyncEndpointClusterIP && o.src != nil && o.dest != nil && !sameCluster(o.src, o.dest) {
		out = append(out, migv1.Condition{Type: migv1.ClusterIPAcrossClusters, Status: migv1.True, Category: migv1.CategoryWarn,
			Message: fmt.Sprintf("rsync_endpoint_type is ClusterIP, but the source cluster %s reaches ClusterIPs of the destination %s only "+
				"through a multi-cluster network; without one the transfer fails as unreachable (use Route or NodePort)", o.src.Name, o.dest.Name)})
	}
	if _, err := transfer.ParseProxy(o.settings.StunnelTCPProxy); err != nil {
		out = append(out, conditions.Critical(migv1.InvalidTransferSettings, migv1.NotSupported,
			fmt.Sprintf("The MigrationController's stunnel_tcp_proxy cannot be used: %v.", err)))
	}
	out = append(out, extrasConditions(o.settings.Rsync.Extras)...)
	if c := destinationConflict(o.dvm, o.others, o.sameDestination); c != nil {
		out = append(out, *c)
	}
	if len(o.missingPVCs) > 0 {
		out = append(out, conditions.Critical(migv1.PVCsNotFoundOnSourceCluster, migv1.NotFound,
			fmt.Sprintf("The set of pvcs were not found on source cluster: %s.", strings.Join(o.missingPVCs, ", "))))
	}
	return out
}

// sameCluster reports whether the source and destination MigClusters are one cluster (a DVM
// within a cluster copies PVCs into other namespaces or names): the same MigCluster, both the
// host, or two MigClusters for the same API server (mapping.IntraCluster), which would
// otherwise let a PVC be copied onto itself.
func sameCluster(src, dest *migv1.MigCluster) bool {
	return mapping.IntraCluster(src, dest)
}

// specProblems reports PVC entries without a name, destinations used twice and, within one
// cluster, a PVC that would be copied onto itself (its destination PVC is the source PVC:
// rsync would find every file up to date and the DVM would succeed having migrated nothing).
func specProblems(dvm *migv1.DirectVolumeMigration, oneCluster bool) string {
	var problems []string
	seen := map[string]bool{}
	for i, p := range dvm.Spec.PersistentVolumeClaims {
		if p.ObjectReference == nil || p.Name == "" || p.Namespace == "" {
			problems = append(problems, fmt.Sprintf("persistentVolumeClaims[%d] has no namespace or name", i))
			continue
		}
		problems = append(problems, nameProblems(i, p)...)
		dest := destKey(p)
		if oneCluster && dest == pvcKey(p) {
			problems = append(problems, fmt.Sprintf("%s would be copied onto itself: the source and destination clusters are the same, set targetNamespace or targetName", dest))
		}
		if seen[dest] {
			problems = append(problems, fmt.Sprintf("two PVCs are copied to %s", dest))
		}
		seen[dest] = true
	}
	slices.Sort(problems)
	return strings.Join(problems, "; ")
}

// nameProblems reports namespaces that are not DNS-1123 labels and PVC names that are not
// DNS-1123 subdomains: the API server would refuse them later, but they reach the transfer's
// configuration files and RSYNC_CONNECT_PROG (a shell command) first.
func nameProblems(i int, p migv1.PVCToMigrate) []string {
	var problems []string
	check := func(field, value string, invalid func(string) []string, what string) {
		if errs := invalid(value); len(errs) > 0 {
			problems = append(problems, fmt.Sprintf("persistentVolumeClaims[%d].%s %q is not a valid %s", i, field, value, what))
		}
	}
	check("namespace", p.Namespace, validation.IsDNS1123Label, "namespace name")
	check("name", p.Name, validation.IsDNS1123Subdomain, "PVC name")
	if p.TargetNamespace != "" {
		check("targetNamespace", p.TargetNamespace, validation.IsDNS1123Label, "namespace name")
	}
	if p.TargetName != "" {
		check("targetName", p.TargetName, validation.IsDNS1123Subdomain, "PVC name")
	}
	return problems
}

// extrasConditions reports what rsync_opt_extras does to the transfer: the options the
// allowlist leaves out (transfer.ValidateExtra), and the filters in effect, whose files are
// not migrated. Both are warnings: the transfer goes on with the allowed options.
func extrasConditions(raw string) []migv1.Condition {
	var out []migv1.Condition
	valid, invalid := transfer.ParseExtras(raw)
	if len(invalid) > 0 {
		msgs := make([]string, len(invalid))
		for i, err := range invalid {
			msgs[i] = err.Error()
		}
		out = append(out, migv1.Condition{Type: migv1.RsyncOptionsIgnored, Status: migv1.True, Category: migv1.CategoryWarn,
			Reason: migv1.NotSupported, Message: fmt.Sprintf("The MigrationController's rsync_opt_extras holds options the transfer leaves out: %s.",
				strings.Join(msgs, "; "))})
	}
	if filters := transfer.Filters(valid); len(filters) > 0 {
		out = append(out, migv1.Condition{Type: migv1.RsyncFiltersInEffect, Status: migv1.True, Category: migv1.CategoryWarn,
			Message: fmt.Sprintf("The MigrationController's rsync_opt_extras filters what is copied (%s): the files it leaves out are not migrated.",
				strings.Join(filters, " "))})
	}
	return out
}
