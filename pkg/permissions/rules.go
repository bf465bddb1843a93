package permissions

import "slices"

// Rule is a set of verbs on resources of API groups, as in a ClusterRole, with the reason
// Ferry needs it (a comment in the generated role).
type Rule struct {
	Groups    []string
	Resources []string
	Verbs     []string
	Why       string
}

// Role is a ClusterRole Ferry ships.
type Role struct {
	Name        string
	Description string
	// Labels go on the ClusterRole (aggregation).
	Labels map[string]string
	// AggregateFrom makes the role an aggregated one: its rules are those of every ClusterRole
	// with these labels.
	AggregateFrom map[string]string
	Rules         []Rule
}

// Names of the shipped ClusterRoles.
const (
	SourceRole      = "ferry-remote-source"
	DestinationRole = "ferry-remote-destination"
	RollbackRole    = "ferry-rollback"
	RollbackAllRole = "ferry-rollback-all"
	PVResizingRole  = "ferry-pv-resizing"
	// AggregateToRollbackLabel puts a ClusterRole's rules into ferry-rollback.
	AggregateToRollbackLabel = "migration.openshift.io/aggregate-to-ferry-rollback"
)

var (
	readVerbs   = []string{"get", "list", "watch"}
	createVerbs = []string{"get", "list", "watch", "create", "delete"}
	patchVerbs  = []string{"get", "list", "watch", "patch"}
)

// workloads are the kinds quiesce scales down and up (pkg/quiesce), and plan discovery reads
// for the volumes their pod templates mount.
var workloads = []Rule{
	{Groups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "replicasets", "daemonsets"}, Verbs: patchVerbs,
		Why: "quiesce and unquiesce applications; find the claims their pod templates mount"},
	{Groups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: patchVerbs,
		Why: "quiesce and unquiesce Jobs and CronJobs"},
	{Groups: []string{""}, Resources: []string{"replicationcontrollers"}, Verbs: patchVerbs,
		Why: "quiesce and unquiesce ReplicationControllers"},
	{Groups: []string{"apps.openshift.io"}, Resources: []string{"deploymentconfigs"}, Verbs: patchVerbs,
		Why: "quiesce and unquiesce DeploymentConfigs, where the API exists"},
}

// common are the rules of both sides.
var common = []Rule{
	{Groups: []string{""}, Resources: []string{"pods"}, Verbs: append(slices.Clone(createVerbs), "deletecollection", "patch"),
		Why: "rsync transfer pods and stage pods (deleted by label); hook and application pods are read; application pods kept out of stage backups, restored ones pointed at copied images"},
	{Groups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"},
		Why: "transfer progress and failures; hook logs"},
	{Groups: []string{""}, Resources: []string{"configmaps", "secrets"}, Verbs: createVerbs,
		Why: "transfer and hook configuration; Velero's cloud credentials; proxy Secrets; the resource modifiers of restores"},
	{Groups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"patch", "update"},
		Why: "bring Velero's cloud credentials up to date when the MigStorage changes"},
	{Groups: []string{""}, Resources: []string{"services"}, Verbs: createVerbs,
		Why: "rsync transfer endpoints on the destination; cleanup looks for them on both sides"},
	{Groups: []string{""}, Resources: []string{"events"}, Verbs: []string{"list"},
		Why: "why the cluster refuses a hook Job's pods (the Job controller's FailedCreate events)"},
	{Groups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: patchVerbs,
		Why: "check a hook's service account before its Job is created; label stage pods' service accounts for the stage backup, and remove the label"},
	{Groups: []string{""}, Resources: []string{"persistentvolumes"}, Verbs: readVerbs,
		Why: "plan volume discovery"},
	{Groups: []string{"storage.k8s.io"}, Resources: []string{"storageclasses"}, Verbs: readVerbs,
		Why: "plan storage class choices"},
	{Groups: []string{""}, Resources: []string{"nodes"}, Verbs: readVerbs,
		Why: "node addresses of NodePort transfer endpoints; nodes of volumes"},
	{Groups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"create", "delete", "deletecollection"},
		Why: "hook Jobs"},
	{Groups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"deletecollection"},
		Why: "hook playbooks; the resource modifiers of restores"},
	{Groups: []string{"velero.io"}, Resources: []string{"backupstoragelocations", "volumesnapshotlocations"}, Verbs: []string{"get", "list", "watch", "create", "delete", "patch", "update"},
		Why: "the replication repository of each plan, in Velero's namespace"},
	{Groups: []string{"velero.io"}, Resources: []string{"downloadrequests"}, Verbs: []string{"get", "create", "delete"},
		Why: "Velero's results of a partially failed backup or restore"},
}

// SourceRules are what a migration's source cluster must allow.
var SourceRules = concat(common, workloads, []Rule{
	{Groups: []string{""}, Resources: []string{"namespaces", "persistentvolumeclaims", "persistentvolumes"}, Verbs: patchVerbs,
		Why: "label namespaces, claims and volumes for the stage backup; Retain on moved volumes"},
	{Groups: []string{"velero.io"}, Resources: []string{"backups"}, Verbs: createVerbs,
		Why: "the initial and stage backups; cancel deletes them"},
	{Groups: []string{"velero.io"}, Resources: []string{"deletebackuprequests"}, Verbs: []string{"get", "list", "watch", "create", "deletecollection"},
		Why: "delete a canceled migration's backups and their data"},
	{Groups: []string{"velero.io"}, Resources: []string{"podvolumebackups"}, Verbs: readVerbs,
		Why: "copy a backup's record to the destination; progress of the stage backup's volumes"},
	{Groups: []string{"image.openshift.io"}, Resources: []string{"imagestreams"}, Verbs: readVerbs,
		Why: "find the images of the plan's namespaces, where the API exists"},
	{Groups: []string{"image.openshift.io"}, Resources: []string{"imagestreams/layers"}, Verbs: []string{"get"},
		Why: "pull the images of the plan's ImageStreams from the internal registry (the registry checks this)"},
})

// DestinationRules are what a migration's destination cluster must allow.
var DestinationRules = concat(common, workloads, []Rule{
	{Groups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch", "create", "patch"},
		Why: "create missing destination namespaces; remove the stage label a stage restore brought"},
	{Groups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: []string{"get", "list", "watch", "create", "patch"},
		Why: "destination claims of copied volumes; remove the stage label a stage restore brought"},
	{Groups: []string{"route.openshift.io"}, Resources: []string{"routes"}, Verbs: createVerbs,
		Why: "rsync transfer endpoints, where the API exists"},
	{Groups: []string{"route.openshift.io"}, Resources: []string{"routes/custom-host"}, Verbs: []string{"create"},
		Why: "a transfer Route's host under cluster_subdomain (OpenShift checks this for spec.host)"},
	{Groups: []string{"velero.io"}, Resources: []string{"restores"}, Verbs: createVerbs,
		Why: "the stage and final restores; cancel and rollback delete them"},
	{Groups: []string{"velero.io"}, Resources: []string{"backups"}, Verbs: createVerbs,
		Why: "copy a backup's record here instead of waiting for Velero's sync"},
	{Groups: []string{"velero.io"}, Resources: []string{"podvolumebackups"}, Verbs: []string{"get", "list", "watch", "create"},
		Why: "copy a backup's record here instead of waiting for Velero's sync"},
	{Groups: []string{"velero.io"}, Resources: []string{"podvolumerestores"}, Verbs: readVerbs,
		Why: "progress of the stage restore's volumes"},
	{Groups: []string{"image.openshift.io"}, Resources: []string{"imagestreams"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch"},
		Why: "the destination ImageStreams of copied images, where the API exists"},
	{Groups: []string{"image.openshift.io"}, Resources: []string{"imagestreams/layers"}, Verbs: []string{"get", "update"},
		Why: "push copied images to the internal registry (the registry checks this)"},
	{Groups: []string{"build.openshift.io"}, Resources: []string{"buildconfigs"}, Verbs: []string{"get", "list", "patch"},
		Why: "point restored BuildConfigs at the images copied to the destination registry, where the API exists"},
	{Groups: []string{"migration.openshift.io"}, Resources: []string{"migrationcontrollers"}, Verbs: readVerbs,
		Why: "rsync_endpoint_type and cluster_subdomain set on this cluster, where a MigrationController exists"},
	{Groups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: createVerbs,
		Why: "a storage conversion recreates the StatefulSets whose claim templates it renames"},
})

// RollbackAllRules are the default member of the aggregated rollback role: a rollback deletes
// the objects of any namespaced kind that a restore created, and labels them after the
// restore so it can find them (Velero marks only what it created, by restore name).
var RollbackAllRules = []Rule{
	{Groups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "patch", "delete"},
		Why: "label what a restore created; delete it on rollback"},
}

// PVResizingRules are what PV resizing (enable_dvm_pv_resizing) reads on a source cluster.
var PVResizingRules = []Rule{
	{Groups: []string{""}, Resources: []string{"nodes/proxy"}, Verbs: []string{"get"},
		Why: "kubelets' /stats/summary: how full each volume is"},
}

// Roles returns the ClusterRoles of config/rbac/remote, in file order.
func Roles() []Role {
	return []Role{
		{Name: SourceRole, Description: "What Ferry does on a migration's source cluster. Bind a remote source cluster's MigCluster token to it.", Rules: SourceRules},
		{Name: DestinationRole, Description: "What Ferry does on a migration's destination cluster. Bind a remote destination cluster's MigCluster token to it, and to " + RollbackRole + ".", Rules: DestinationRules},
		{Name: RollbackRole, Description: "What a rollback may delete on a destination cluster: the rules of every ClusterRole labelled " + AggregateToRollbackLabel + "=true.",
			AggregateFrom: map[string]string{AggregateToRollbackLabel: "true"}},
		{Name: RollbackAllRole, Description: "The default member of " + RollbackRole + ": every kind. Remove it (and label narrower roles) to limit what a rollback may delete.",
			Labels: map[string]string{AggregateToRollbackLabel: "true"}, Rules: RollbackAllRules},
		{Name: PVResizingRole, Description: "Opt-in: kubelet volume statistics for PV resizing (enable_dvm_pv_resizing). Bind a source cluster's token to it to resize.", Rules: PVResizingRules},
	}
}

func concat(parts ...[]Rule) []Rule {
	var out []Rule
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
