package directvolumemigration

import (
	"fmt"
	"slices"
	"strings"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// validate returns MTC's DVM validation conditions (all Critical) for what observe saw, plus
// Ferry's: a spec that would write two PVCs into one, clusters that cannot be reached, and a
// warning for a ClusterIP endpoint between two clusters.
func validate(o *observed) []migv1.Condition {
	var out []migv1.Condition
	spec := o.dvm.Spec
	out = append(out, clusterConditions(spec.SrcMigClusterRef == nil || spec.SrcMigClusterRef.Name == "", o.src,
		migv1.InvalidSourceClusterRef, migv1.SourceClusterNotReady, "source", o.srcErr)...)
	out = append(out, clusterConditions(spec.DestMigClusterRef == nil || spec.DestMigClusterRef.Name == "", o.dest,
		migv1.InvalidDestinationClusterRef, migv1.DestinationClusterNotReady, "destination", o.destErr)...)
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
	if c := destinationConflict(o.dvm, o.others, o.sameDestination); c != nil {
		out = append(out, *c)
	}
	if len(o.missingPVCs) > 0 {
		out = append(out, conditions.Critical(migv1.PVCsNotFoundOnSourceCluster, migv1.NotFound,
			fmt.Sprintf("The set of pvcs were not found on source cluster: %s.", strings.Join(o.missingPVCs, ", "))))
	}
	return out
}

func clusterConditions(unset bool, c *migv1.MigCluster, invalidType, notReadyType, which string, connectErr error) []migv1.Condition {
	switch {
	case unset:
		return []migv1.Condition{conditions.Critical(invalidType, migv1.NotSet, fmt.Sprintf("The %s cluster reference is not set.", which))}
	case c == nil:
		return []migv1.Condition{conditions.Critical(invalidType, migv1.NotFound, fmt.Sprintf("The %s cluster reference is invalid: the MigCluster does not exist.", which))}
	case !ready(c):
		return []migv1.Condition{conditions.Critical(notReadyType, migv1.NotReady, fmt.Sprintf("The %s cluster %s is not ready.", which, c.Name))}
	case connectErr != nil:
		return []migv1.Condition{conditions.Critical(notReadyType, migv1.NotReady, fmt.Sprintf("The %s cluster %s cannot be reached: %v", which, c.Name, connectErr))}
	}
	return nil
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
