package main

// What the CSV says about each owned CRD beyond the CRD itself: a display name and the
// descriptors the OpenShift console builds its forms and detail pages from. Descriptions
// are not written here: descriptorsFor takes them from the CRD schema (the API's doc
// comments), so they cannot drift from the API, and a path the schema lacks is an error.

// x-descriptors of the console (OLM's descriptor reference).
const (
	xBoolean    = "urn:alm:descriptor:com.tectonic.ui:booleanSwitch"
	xText       = "urn:alm:descriptor:com.tectonic.ui:text"
	xNumber     = "urn:alm:descriptor:com.tectonic.ui:number"
	xPassword   = "urn:alm:descriptor:com.tectonic.ui:password"
	xAdvanced   = "urn:alm:descriptor:com.tectonic.ui:advanced"
	xConditions = "urn:alm:descriptor:io.kubernetes.conditions"
	xPhase      = "urn:alm:descriptor:io.kubernetes.phase"
)

// xSelect offers value in a drop-down (one x-descriptor per value).
func xSelect(values ...string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		out = append(out, "urn:alm:descriptor:com.tectonic.ui:select:"+v)
	}
	return out
}

// xFieldGroup groups fields under one heading of the console's form.
func xFieldGroup(group string) string {
	return "urn:alm:descriptor:com.tectonic.ui:fieldGroup:" + group
}

// xMigResource picks an object of one of Ferry's kinds by name. References between Ferry's
// objects default to the referring object's namespace (controllers/migplan refKey), which
// is the operator's, so a picker of that namespace offers exactly the valid choices.
func xMigResource(kind string) string {
	return "urn:alm:descriptor:io.kubernetes:migration.openshift.io:v1alpha1:" + kind
}

// descriptor is one spec or status descriptor. describedBy, when set, is the path whose
// schema description is used: a reference's name field describes the referent's kind
// generically, its parent field says what the reference is for.
type descriptor struct {
	path        string
	displayName string
	x           []string
	describedBy string
}

func d(path, displayName string, x ...string) descriptor {
	return descriptor{path: path, displayName: displayName, x: x}
}

// ref describes field.name of an ObjectReference to one of Ferry's kinds.
func ref(field, displayName, kind string) descriptor {
	return descriptor{path: field + ".name", displayName: displayName, x: []string{xMigResource(kind)}, describedBy: field}
}

// secretRef describes field.name and field.namespace of a Secret reference. Free text, not
// the console's Secret picker: Ferry reads these Secrets from its own namespace and from
// openshift-config (README, trust boundaries), and the picker offers only the former.
func secretRef(field, displayName string, x ...string) []descriptor {
	return []descriptor{
		{path: field + ".name", displayName: displayName, x: append([]string{xText}, x...), describedBy: field},
		{path: field + ".namespace", displayName: displayName + " namespace", x: append([]string{xText}, x...), describedBy: field},
	}
}

func cat(groups ...[]descriptor) []descriptor {
	var out []descriptor
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// conditions is the status descriptor every kind with MTC conditions shares.
var conditions = d("conditions", "Conditions", xConditions)

// ownedCRD is what the CSV says about one owned CRD.
type ownedCRD struct {
	kind        string
	displayName string
	spec        []descriptor
	status      []descriptor
	// internal hides the kind from the console's list of provided APIs: users do not create
	// it (operators.operatorframework.io/internal-objects).
	internal bool
}

// ownedCRDs in the order the console lists them: what a user creates first comes first.
var ownedCRDs = []ownedCRD{
	{
		kind: "MigrationController", displayName: "Migration Controller",
		spec: cat(
			[]descriptor{
				d("cluster_name", "Cluster name", xText),
				d("rsync_endpoint_type", "Rsync endpoint type", xSelect("NodePort", "ClusterIP", "Route")...),
				d("mig_namespace_limit", "Namespace limit", xNumber),
				d("mig_pod_limit", "Pod limit", xNumber),
				d("mig_pv_limit", "PV limit", xNumber),
				d("mig_pv_move_storageclasses", "Storage classes whose PVs may be moved"),
				d("enable_dvm_pv_resizing", "Resize destination PVCs", xBoolean),
				d("enable_intelligent_pv_resize", "Propose PV capacities from usage", xBoolean),
				d("pv_resizing_threshold", "PV resizing threshold (%)", xNumber),
				d("rsync_parallel_transfers", "Parallel PVC transfers", xNumber),
				d("image_copy_parallelism", "Parallel image blob copies", xNumber),
				d("httpProxy", "HTTP proxy", xText, xFieldGroup("proxy")),
				d("httpsProxy", "HTTPS proxy", xText, xFieldGroup("proxy")),
				d("noProxy", "No proxy", xText, xFieldGroup("proxy")),
				d("stunnel_tcp_proxy", "Stunnel TCP proxy", xPassword, xAdvanced),
				d("cluster_subdomain", "Cluster route subdomain", xText, xAdvanced),
				d("velero_namespace", "Velero namespace", xText, xAdvanced),
				d("rsync_transfer_image", "Rsync transfer image", xText, xAdvanced),
				d("hook_runner_image", "Hook runner image", xText, xAdvanced),
				d("rsync_opt_bwlimit", "Rsync bandwidth limit (KiB/s)", xNumber, xAdvanced),
				d("rsync_backoff_limit", "Rsync attempts per PVC", xNumber, xAdvanced),
				d("migration_no_progress_warning_minutes", "Minutes without progress before a warning", xNumber, xAdvanced),
				d("migration_no_progress_timeout_minutes", "Minutes without progress before failing", xNumber, xAdvanced),
				d("disable_image_migration", "Disable image migration", xBoolean, xAdvanced),
				d("disable_image_copy", "Disable image copy", xBoolean, xAdvanced),
				d("disable_pv_migration", "Disable PV migration", xBoolean, xAdvanced),
				d("mig_controller_enable_cache", "Cache remote clusters' objects", xBoolean, xAdvanced),
			},
		),
		status: []descriptor{conditions},
	},
	{
		kind: "MigCluster", displayName: "Migration Cluster",
		spec: cat(
			[]descriptor{
				d("isHostCluster", "Host cluster", xBoolean),
				d("url", "API server URL", xText),
			},
			secretRef("serviceAccountSecretRef", "Token Secret"),
			[]descriptor{
				d("insecure", "Skip TLS verification", xBoolean),
				d("caBundle", "CA bundle", xText, xAdvanced),
				d("exposedRegistryPath", "Exposed registry route", xText, xAdvanced),
				d("azureResourceGroup", "Azure resource group", xText, xAdvanced),
				d("refresh", "Refresh", xBoolean, xAdvanced),
			},
		),
		status: []descriptor{
			conditions,
			d("registryPath", "Registry path", xText),
			d("operatorVersion", "Operator version", xText),
		},
	},
	{
		kind: "MigStorage", displayName: "Migration Storage",
		spec: cat(
			[]descriptor{
				d("backupStorageProvider", "Backup storage provider", xSelect("aws", "azure", "gcp")...),
				d("backupStorageConfig.awsBucketName", "Bucket", xText, xFieldGroup("backupStorageConfig")),
				d("backupStorageConfig.awsS3Url", "S3 endpoint", xText, xFieldGroup("backupStorageConfig")),
				d("backupStorageConfig.awsRegion", "S3 region", xText, xFieldGroup("backupStorageConfig")),
				d("backupStorageConfig.awsS3ForcePathStyle", "Path-style addressing", xBoolean, xFieldGroup("backupStorageConfig")),
				d("backupStorageConfig.insecure", "Skip TLS verification", xBoolean, xFieldGroup("backupStorageConfig")),
			},
			secretRef("backupStorageConfig.credsSecretRef", "Credentials Secret", xFieldGroup("backupStorageConfig")),
			[]descriptor{
				d("backupStorageConfig.gcpBucket", "GCS bucket", xText, xFieldGroup("backupStorageConfig"), xAdvanced),
				d("backupStorageConfig.azureStorageAccount", "Azure storage account", xText, xFieldGroup("backupStorageConfig"), xAdvanced),
				d("backupStorageConfig.azureStorageContainer", "Azure blob container", xText, xFieldGroup("backupStorageConfig"), xAdvanced),
				d("backupStorageConfig.azureResourceGroup", "Azure resource group", xText, xFieldGroup("backupStorageConfig"), xAdvanced),
				d("volumeSnapshotProvider", "Volume snapshot provider", append(xSelect("aws", "azure", "gcp"), xAdvanced)...),
				d("refresh", "Refresh", xBoolean, xAdvanced),
			},
		),
		status: []descriptor{conditions},
	},
	{
		kind: "MigPlan", displayName: "Migration Plan",
		spec: []descriptor{
			ref("srcMigClusterRef", "Source cluster", "MigCluster"),
			ref("destMigClusterRef", "Destination cluster", "MigCluster"),
			ref("migStorageRef", "Replication repository", "MigStorage"),
			d("namespaces", "Namespaces"),
			d("indirectVolumeMigration", "Copy volumes through the repository", xBoolean),
			d("indirectImageMigration", "Copy images through the repository", xBoolean),
			d("hooks", "Hooks"),
			d("closed", "Closed", xBoolean),
			d("refresh", "Refresh", xBoolean, xAdvanced),
			d("liveMigrate", "Live-migrate KubeVirt VM storage", xBoolean, xAdvanced),
		},
		status: []descriptor{conditions},
	},
	{
		kind: "MigMigration", displayName: "Migration",
		spec: []descriptor{
			ref("migPlanRef", "Plan", "MigPlan"),
			d("stage", "Stage", xBoolean),
			d("quiescePods", "Quiesce source applications", xBoolean),
			d("canceled", "Cancel", xBoolean),
			d("verify", "Verify migrated pods", xBoolean, xAdvanced),
			d("migrateState", "State migration", xBoolean, xAdvanced),
			d("rollback", "Rollback", xBoolean, xAdvanced),
			d("keepAnnotations", "Keep migration annotations", xBoolean, xAdvanced),
			d("runAsRoot", "Run rsync as root", xBoolean, xAdvanced),
			d("runAsUser", "Rsync user ID", xNumber, xAdvanced),
			d("runAsGroup", "Rsync group ID", xNumber, xAdvanced),
		},
		status: []descriptor{
			conditions,
			d("phase", "Phase", xPhase),
			d("itinerary", "Itinerary", xText),
		},
	},
	{
		kind: "MigHook", displayName: "Migration Hook",
		spec: []descriptor{
			d("image", "Image", xText),
			d("custom", "Custom image", xBoolean),
			d("playbook", "Ansible playbook (base64)", xText),
			d("targetCluster", "Target cluster", xSelect("source", "destination")...),
			d("activeDeadlineSeconds", "Deadline (seconds)", xNumber),
		},
		status: []descriptor{conditions},
	},
	{
		kind: "DirectVolumeMigration", displayName: "Direct Volume Migration",
		spec: []descriptor{
			ref("srcMigClusterRef", "Source cluster", "MigCluster"),
			ref("destMigClusterRef", "Destination cluster", "MigCluster"),
			d("persistentVolumeClaims", "PVCs"),
			d("createDestinationNamespaces", "Create destination namespaces", xBoolean),
		},
		status: []descriptor{conditions, d("phase", "Phase", xPhase)},
	},
	{
		kind: "DirectImageMigration", displayName: "Direct Image Migration",
		spec: []descriptor{
			ref("srcMigClusterRef", "Source cluster", "MigCluster"),
			ref("destMigClusterRef", "Destination cluster", "MigCluster"),
			d("namespaces", "Namespaces"),
		},
		status: []descriptor{conditions, d("phase", "Phase", xPhase)},
	},
	{
		kind: "DirectImageStreamMigration", displayName: "Direct Image Stream Migration",
		spec: []descriptor{
			ref("srcMigClusterRef", "Source cluster", "MigCluster"),
			ref("destMigClusterRef", "Destination cluster", "MigCluster"),
			d("destNamespace", "Destination namespace", xText),
		},
		status: []descriptor{conditions, d("phase", "Phase", xPhase)},
	},
	{
		// Per-PVC progress that the DirectVolumeMigration controller writes.
		kind: "DirectVolumeMigrationProgress", displayName: "Direct Volume Migration Progress",
		status:   []descriptor{conditions, d("totalProgressPercentage", "Progress (%)", xText)},
		internal: true,
	},
	{
		// Accepted for MTC compatibility (MTC's web console creates them); Ferry runs no
		// controller for it (PROJECT), so a user-created one would never get a status.
		kind: "MigAnalytic", displayName: "Migration Analytic",
		internal: true,
	},
}
