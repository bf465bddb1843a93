package directimagemigration

import (
	"fmt"
	"strings"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// validate returns MTC's DIM validation conditions (all Critical) for what observe saw.
func validate(o *observed) []migv1.Condition {
	spec := o.dim.Spec
	var out []migv1.Condition
	out = append(out, conditions.ClusterRefConditions(conditions.ClusterRef{Which: "source", Unset: spec.SrcMigClusterRef == nil || spec.SrcMigClusterRef.Name == "",
		Cluster: o.src, ConnectErr: o.srcErr, InvalidType: migv1.InvalidSourceClusterRef, NotReadyType: migv1.SourceClusterNotReady,
		NoRegistryType: migv1.MissingSourceClusterRegistryPath})...)
	out = append(out, conditions.ClusterRefConditions(conditions.ClusterRef{Which: "destination", Unset: spec.DestMigClusterRef == nil || spec.DestMigClusterRef.Name == "",
		Cluster: o.dest, ConnectErr: o.destErr, InvalidType: migv1.InvalidDestinationClusterRef, NotReadyType: migv1.DestinationClusterNotReady,
		NoRegistryType: migv1.MissingDestinationClusterRegistryPath})...)
	if o.src != nil && o.dest != nil && mapping.IntraCluster(o.src, o.dest) {
		out = append(out, conditions.Critical(migv1.InvalidDestinationCluster, migv1.NotDistinct,
			"The source cluster and the destination cluster are the same cluster."))
	}
	switch {
	case len(spec.Namespaces) == 0:
		out = append(out, conditions.Critical(migv1.NamespaceListEmpty, migv1.NotSet, "The namespace list is empty."))
	case len(o.badNamespaces) > 0:
		out = append(out, conditions.Critical(migv1.NamespaceListEmpty, migv1.NotSupported,
			fmt.Sprintf("Namespaces must be \"name\" or \"source:destination\": %s.", strings.Join(o.badNamespaces, ", "))))
	}
	if len(o.missingNamespaces) > 0 {
		out = append(out, conditions.Critical(migv1.NamespaceNotFoundOnSourceCluster, migv1.NotFound,
			fmt.Sprintf("Namespaces [%s] not found on the source cluster.", strings.Join(o.missingNamespaces, ", "))))
	}
	return out
}
