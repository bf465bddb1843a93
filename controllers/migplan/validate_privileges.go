package migplan

import (
	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// validatePrivileges refuses a plan whose source cluster's token may not act as a source, or
// whose destination's may not act as a destination: the MigCluster controller checked every
// permission (pkg/permissions) and named the missing ones in a warning, which becomes the
// plan's blocker here, before a migration quiesces anything and then meets a Forbidden.
func validatePrivileges(src, dest *migv1.MigCluster) []migv1.Condition {
	var out []migv1.Condition
	for _, side := range []struct {
		cluster       *migv1.MigCluster
		warning, plan string
	}{
		{src, migv1.NotPrivilegedAsSource, migv1.SourceClusterNotPrivileged},
		{dest, migv1.NotPrivilegedAsDestination, migv1.DestinationClusterNotPrivileged},
	} {
		if side.cluster == nil {
			continue
		}
		if c := conditions.Find(side.cluster.Status.Conditions, side.warning); c != nil {
			out = append(out, conditions.Critical(side.plan, c.Reason, "MigCluster "+side.cluster.Name+": "+c.Message))
		}
	}
	return out
}
