package conditions

import (
	"fmt"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// ClusterRef is what a migration object (a DVM, DIM or DISM) knows of one MigCluster it
// references, and the condition types it reports problems with.
type ClusterRef struct {
	// Which is "source" or "destination", for messages.
	Which string
	// Unset says the reference names no MigCluster.
	Unset bool
	// Cluster is the referenced MigCluster; nil when it does not exist.
	Cluster *migv1.MigCluster
	// ConnectErr says why a Ready cluster could not be reached.
	ConnectErr error
	// InvalidType (NotSet, NotFound) and NotReadyType are the object's condition types.
	InvalidType, NotReadyType string
	// NoRegistryType, when set, is the condition of a cluster without status.registryPath
	// (image migration needs one).
	NoRegistryType string
}

// ClusterRefConditions returns the Critical condition of the first problem of a cluster
// reference: unset, missing, not Ready, unreachable, or (when asked) without a registry path.
func ClusterRefConditions(r ClusterRef) []migv1.Condition {
	c := r.Cluster
	switch {
	case r.Unset:
		return []migv1.Condition{Critical(r.InvalidType, migv1.NotSet, fmt.Sprintf("The %s cluster reference is not set.", r.Which))}
	case c == nil:
		return []migv1.Condition{Critical(r.InvalidType, migv1.NotFound, fmt.Sprintf("The %s cluster reference is invalid: the MigCluster does not exist.", r.Which))}
	case !IsTrue(c.Status.Conditions, migv1.Ready):
		return []migv1.Condition{Critical(r.NotReadyType, migv1.NotReady, fmt.Sprintf("The %s cluster %s is not ready.", r.Which, c.Name))}
	case r.ConnectErr != nil:
		return []migv1.Condition{Critical(r.NotReadyType, migv1.NotReady, fmt.Sprintf("The %s cluster %s cannot be reached: %v", r.Which, c.Name, r.ConnectErr))}
	case r.NoRegistryType != "" && c.Status.RegistryPath == "":
		return []migv1.Condition{Critical(r.NoRegistryType, migv1.NotSet,
			fmt.Sprintf("The %s cluster %s has no registry path: set spec.exposedRegistryPath on the MigCluster to the route of its image registry.", r.Which, c.Name))}
	}
	return nil
}
