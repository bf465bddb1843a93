package directimagestreammigration

import (
	"fmt"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// validate returns MTC's DISM validation conditions (all Critical) for what observe saw.
func validate(o *observed) []migv1.Condition {
	spec := o.dism.Spec
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
	ref := spec.ImageStreamRef
	switch {
	case ref == nil || ref.Name == "" || ref.Namespace == "":
		out = append(out, conditions.Critical(migv1.InvalidImageStreamRef, migv1.NotSet,
			"The imageStreamRef must name the namespace and the name of an ImageStream."))
	case o.imageStreamMissing:
		out = append(out, conditions.Critical(migv1.InvalidImageStream, migv1.NotFound,
			fmt.Sprintf("The ImageStream %s/%s does not exist on the source cluster.", ref.Namespace, ref.Name)))
	}
	if o.destNamespaceMissing {
		out = append(out, conditions.Critical(migv1.NamespaceNotFoundOnDestinationCluster, migv1.NotFound,
			fmt.Sprintf("The namespace %s does not exist on the destination cluster.", destNamespace(o.dism))))
	}
	return out
}
