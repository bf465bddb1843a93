package settings

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/intstr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Unsupported lists the settings of spec that Ferry does not act on, each as "field: why",
// in the order of the spec. A setting is listed only when its value asks for something Ferry
// does not do: stunnel_verify_ca: true is what Ferry always does, so it is not listed, but
// false is. The MigrationController's status shows the list, so that no setting is ignored
// in silence.
func Unsupported(spec *migv1.MigrationControllerSpec) []string {
	if spec == nil {
		return nil
	}
	var out []string
	add := func(set bool, field, why string) {
		if set {
			out = append(out, field+": "+why)
		}
	}
	add(spec.RsyncOptInfo != "", "rsync_opt_info",
		"accepted for compatibility; MTC parses it and does not use it either")
	add(spec.StunnelVerifyCA != nil && !*spec.StunnelVerifyCA, "stunnel_verify_ca",
		"both ends of every transfer always verify each other against the migration's own CA; verification cannot be turned off")
	add(spec.StunnelVerifyCALevel != nil && spec.StunnelVerifyCALevel.String() != "2", "stunnel_verify_ca_level",
		"transfers always verify the peer's certificate chain and host name (stunnel verifyChain and checkHost)")
	add(isTrue(spec.MigrationRsyncPrivileged), "migration_rsync_privileged",
		"transfer pods never run privileged; a migration's runAsRoot runs them as root, with few capabilities, to keep file owners")
	add(isTrue(spec.MigrationRsyncSuperPrivileged), "migration_rsync_super_privileged",
		"transfer pods never run privileged or as spc_t; see migration_rsync_privileged")
	add(spec.JaegerEnabled, "jaeger_enabled", "Ferry has no tracing")
	for _, r := range []struct {
		field string
		v     *intstr.IntOrString
	}{
		{"mig_controller_limits_cpu", spec.MigControllerLimitsCPU},
		{"mig_controller_limits_memory", spec.MigControllerLimitsMemory},
		{"mig_controller_requests_cpu", spec.MigControllerRequestsCPU},
		{"mig_controller_requests_memory", spec.MigControllerRequestsMemory},
	} {
		add(r.v != nil, r.field,
			"the operator's own resources are those of its Deployment (config/manager, or the ClusterServiceVersion with OLM); set them there")
	}
	add(isTrue(spec.MigrationUI), "migration_ui", "the operator does not deploy the web console; apply config/console (see the README)")
	add(spec.ClusterName != "", "cluster_name", "not used: MigClusters name the clusters")
	return out
}

func isTrue(p *bool) bool { return p != nil && *p }

// InForce returns the MigrationController whose settings apply among those of the operator's
// namespace: the one named PreferredName, else the first by name; nil when there is none.
func InForce(items []migv1.MigrationController) *migv1.MigrationController {
	var chosen *migv1.MigrationController
	for i := range items {
		switch {
		case items[i].Name == PreferredName:
			return &items[i]
		case chosen == nil || items[i].Name < chosen.Name:
			chosen = &items[i]
		}
	}
	return chosen
}

// Summary is one line on the settings in force, for the MigrationController's status.
func (s Settings) Summary() string {
	if !s.RunControllers {
		return fmt.Sprintf("migration controllers off (migration_controller: false): only this MigrationController's status and Velero (migration_velero: %t) are reconciled here", s.DeployVelero)
	}
	warm := "on"
	if !s.EnableWarmSync {
		warm = "off"
	}
	return fmt.Sprintf("rsync endpoint %s, %d PVCs at once, warm sync %s, Velero in %s, limits %d namespaces / %d pods / %d PVs",
		s.RsyncEndpointType, s.RsyncParallelTransfers, warm, s.VeleroNamespace, s.NamespaceLimit, s.PodLimit, s.PVLimit)
}

// Watchdog is the no-progress watchdog's limits in force (migration_no_progress_*), for the
// itinerary engine.
func (s Settings) Watchdog() itinerary.Limits {
	return itinerary.Limits{Warning: s.NoProgressWarning, Timeout: s.NoProgressTimeout}
}
