package migrationcontroller

import (
	"fmt"
	"strings"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// conditionsFor computes the status conditions of mc, given the MigrationController in force
// in its namespace and what became of migration_velero.
func conditionsFor(mc, inForce *migv1.MigrationController, velero veleroState) []migv1.Condition {
	if inForce == nil || inForce.Name != mc.Name {
		other := "none"
		if inForce != nil {
			other = inForce.Name
		}
		c := conditions.Advisory(migv1.Running, migv1.NotInForce, fmt.Sprintf(
			"The settings of MigrationController %s apply: Ferry reads the one named %s, else the first by name.",
			other, settings.PreferredName))
		c.Status = migv1.False
		return []migv1.Condition{c}
	}
	s := settings.FromSpec(&mc.Spec)
	out := []migv1.Condition{conditions.Advisory(migv1.Running, migv1.Successful, "Ferry "+ferryVersion()+" applies these settings: "+s.Summary()+".")}
	if len(s.Invalid) > 0 {
		out = append(out, conditions.Warn(migv1.InvalidSettings, migv1.InvalidValue,
			"These values are invalid and their defaults apply: "+strings.Join(s.Invalid, "; ")+"."))
	}
	if ignored := settings.Unsupported(&mc.Spec); len(ignored) > 0 {
		out = append(out, conditions.Warn(migv1.UnsupportedSettings, migv1.NotSupported,
			"Ferry does not act on these settings: "+strings.Join(ignored, "; ")+"."))
	}
	switch {
	case !velero.wanted:
	case velero.reason == migv1.Deployed:
		out = append(out, conditions.Advisory(migv1.VeleroReady, migv1.Deployed, velero.message))
	default:
		out = append(out, conditions.Warn(migv1.VeleroNotReady, velero.reason, velero.message))
	}
	return out
}
