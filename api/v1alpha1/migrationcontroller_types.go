package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// RsyncEndpointType is how rsync transfer pods on the destination are reached.
// +kubebuilder:validation:Enum=NodePort;ClusterIP;Route
type RsyncEndpointType string

// Rsync endpoint types.
const (
	// RsyncEndpointRoute exposes the transfer pods through an OpenShift Route (MTC default).
	RsyncEndpointRoute RsyncEndpointType = "Route"
	// RsyncEndpointClusterIP exposes the transfer pods through a ClusterIP Service.
	RsyncEndpointClusterIP RsyncEndpointType = "ClusterIP"
	// RsyncEndpointNodePort exposes the transfer pods through a NodePort Service.
	RsyncEndpointNodePort RsyncEndpointType = "NodePort"
)

// DefaultVeleroNamespace is the namespace of Velero (and of MTC) when velero_namespace is unset.
const DefaultVeleroNamespace = "openshift-migration"

// MigrationControllerSpec holds the operator settings, with MTC's snake_case names. Settings
// that may hold a number are IntOrString because the MTC operator (Ansible) accepted both
// 100 and "100", and its own default CR uses strings. Unset fields take the documented
// default. Fields Ferry does not model are kept, not pruned.
type MigrationControllerSpec struct {
	// MigNamespaceLimit is the maximum number of namespaces in a plan (default 10).
	// +optional
	MigNamespaceLimit *intstr.IntOrString `json:"mig_namespace_limit,omitempty"`
	// MigPodLimit is the number of running pods above which a plan gets a warning (default 100).
	// +optional
	MigPodLimit *intstr.IntOrString `json:"mig_pod_limit,omitempty"`
	// MigPVLimit is the number of PVs above which a plan gets a warning (default 100).
	// +optional
	MigPVLimit *intstr.IntOrString `json:"mig_pv_limit,omitempty"`
	// ExcludedResources replaces the default list of resources never migrated.
	// +optional
	ExcludedResources []string `json:"excluded_resources,omitempty"`
	// AdditionalExcludedResources are added to the excluded resources.
	// +optional
	AdditionalExcludedResources []string `json:"additional_excluded_resources,omitempty"`
	// DisableImageMigration excludes imagestreams and imagestreamtags.
	// +optional
	DisableImageMigration bool `json:"disable_image_migration,omitempty"`
	// DisablePVMigration excludes persistentvolumes and persistentvolumeclaims.
	// +optional
	DisablePVMigration bool `json:"disable_pv_migration,omitempty"`
	// MigPVMoveStorageClasses are storage classes whose PVs may also be moved.
	// +optional
	MigPVMoveStorageClasses []string `json:"mig_pv_move_storageclasses,omitempty"`
	// EnableIntelligentPVResize measures the usage of each plan's volumes and proposes
	// capacities (MigPlan proposedCapacity and PvCapacityAdjustmentRequired). Ferry's default
	// is false (MTC's operator: true) because the measurement needs nodes/proxy on the source
	// (ClusterRole ferry-pv-resizing); enable_dvm_pv_resizing turns the measurement on too.
	// +optional
	EnableIntelligentPVResize *bool `json:"enable_intelligent_pv_resize,omitempty"`
	// PVResizingThreshold is the headroom percentage for proposed capacities (default 3).
	// +optional
	PVResizingThreshold *intstr.IntOrString `json:"pv_resizing_threshold,omitempty"`
	// EnableDVMPVResizing uses the proposed capacity for destination PVCs.
	// +optional
	EnableDVMPVResizing bool `json:"enable_dvm_pv_resizing,omitempty"`
	// RsyncOptBwlimit is rsync --bwlimit in KiB/s; off when unset or not positive.
	// +optional
	RsyncOptBwlimit *intstr.IntOrString `json:"rsync_opt_bwlimit,omitempty"`
	// RsyncOptArchive enables rsync --archive (default true).
	// +optional
	RsyncOptArchive *bool `json:"rsync_opt_archive,omitempty"`
	// RsyncOptPartial enables rsync --partial (default true).
	// +optional
	RsyncOptPartial *bool `json:"rsync_opt_partial,omitempty"`
	// RsyncOptDelete enables rsync --delete (default true).
	// +optional
	RsyncOptDelete *bool `json:"rsync_opt_delete,omitempty"`
	// RsyncOptHardlinks enables rsync --hard-links (default true).
	// +optional
	RsyncOptHardlinks *bool `json:"rsync_opt_hardlinks,omitempty"`
	// RsyncOptInfo is accepted for compatibility; MTC parses it but does not use it.
	// +optional
	RsyncOptInfo string `json:"rsync_opt_info,omitempty"`
	// RsyncOptExtras are extra rsync flags, separated by white space.
	// +optional
	RsyncOptExtras string `json:"rsync_opt_extras,omitempty"`
	// RsyncBackoffLimit is the number of rsync attempts per PVC; it overrides the DVM spec.
	// +optional
	RsyncBackoffLimit *intstr.IntOrString `json:"rsync_backoff_limit,omitempty"`
	// RsyncParallelTransfers is how many PVCs a DirectVolumeMigration transfers at once
	// (Ferry's setting; default 10).
	// +optional
	RsyncParallelTransfers *intstr.IntOrString `json:"rsync_parallel_transfers,omitempty"`
	// StunnelTCPProxy is an http://user:pass@host:port proxy for the stunnel connection.
	// +optional
	StunnelTCPProxy string `json:"stunnel_tcp_proxy,omitempty"`
	// StunnelVerifyCA verifies the stunnel peer certificate (default true).
	// +optional
	StunnelVerifyCA *bool `json:"stunnel_verify_ca,omitempty"`
	// StunnelVerifyCALevel is the stunnel verify level (default "2").
	// +optional
	StunnelVerifyCALevel *intstr.IntOrString `json:"stunnel_verify_ca_level,omitempty"`
	// SrcSupplementalGroups are comma-separated group IDs for source rsync pods.
	// +optional
	SrcSupplementalGroups *intstr.IntOrString `json:"src_supplemental_groups,omitempty"`
	// TargetSupplementalGroups are comma-separated group IDs for destination rsync pods.
	// +optional
	TargetSupplementalGroups *intstr.IntOrString `json:"target_supplemental_groups,omitempty"`
	// RsyncEndpointType is NodePort, ClusterIP or Route (default Route).
	// +optional
	RsyncEndpointType RsyncEndpointType `json:"rsync_endpoint_type,omitempty"`
	// MigrationRsyncPrivileged runs rsync pods privileged by default.
	// +optional
	MigrationRsyncPrivileged *bool `json:"migration_rsync_privileged,omitempty"`
	// MigrationRsyncSuperPrivileged runs rsync pods privileged with SELinux type spc_t.
	// +optional
	MigrationRsyncSuperPrivileged *bool `json:"migration_rsync_super_privileged,omitempty"`
	// ClusterSubdomain is the route subdomain of the cluster, used for rsync routes.
	// +optional
	ClusterSubdomain string `json:"cluster_subdomain,omitempty"`
	// DisableImageCopy disables image copy; image streams are migrated as objects only.
	// +optional
	DisableImageCopy bool `json:"disable_image_copy,omitempty"`
	// ImageCopyParallelism is how many image blobs a DirectImageMigration copies at once
	// (Ferry's; default 8).
	// +optional
	ImageCopyParallelism *intstr.IntOrString `json:"image_copy_parallelism,omitempty"`
	// MigControllerEnableCache uses cached clients for remote clusters.
	// +optional
	MigControllerEnableCache bool `json:"mig_controller_enable_cache,omitempty"`
	// JaegerEnabled enables tracing.
	// +optional
	JaegerEnabled bool `json:"jaeger_enabled,omitempty"`
	// MigControllerLimitsCPU is the CPU limit of the controller (default "1").
	// +optional
	MigControllerLimitsCPU *intstr.IntOrString `json:"mig_controller_limits_cpu,omitempty"`
	// MigControllerLimitsMemory is the memory limit of the controller (default "10Gi").
	// +optional
	MigControllerLimitsMemory *intstr.IntOrString `json:"mig_controller_limits_memory,omitempty"`
	// MigControllerRequestsCPU is the CPU request of the controller (default "100m").
	// +optional
	MigControllerRequestsCPU *intstr.IntOrString `json:"mig_controller_requests_cpu,omitempty"`
	// MigControllerRequestsMemory is the memory request of the controller (default "350Mi").
	// +optional
	MigControllerRequestsMemory *intstr.IntOrString `json:"mig_controller_requests_memory,omitempty"`
	// ClientPodCPULimit is the CPU limit of rsync client (source) pods.
	// +optional
	ClientPodCPULimit *intstr.IntOrString `json:"client_pod_cpu_limit,omitempty"`
	// ClientPodMemoryLimit is the memory limit of rsync client (source) pods.
	// +optional
	ClientPodMemoryLimit *intstr.IntOrString `json:"client_pod_memory_limit,omitempty"`
	// ClientPodCPURequest is the CPU request of rsync client (source) pods.
	// +optional
	ClientPodCPURequest *intstr.IntOrString `json:"client_pod_cpu_request,omitempty"`
	// ClientPodMemoryRequest is the memory request of rsync client (source) pods.
	// +optional
	ClientPodMemoryRequest *intstr.IntOrString `json:"client_pod_memory_request,omitempty"`
	// TransferPodCPULimit is the CPU limit of rsync transfer (destination) pods.
	// +optional
	TransferPodCPULimit *intstr.IntOrString `json:"transfer_pod_cpu_limit,omitempty"`
	// TransferPodMemoryLimit is the memory limit of rsync transfer (destination) pods.
	// +optional
	TransferPodMemoryLimit *intstr.IntOrString `json:"transfer_pod_memory_limit,omitempty"`
	// TransferPodCPURequest is the CPU request of rsync transfer (destination) pods.
	// +optional
	TransferPodCPURequest *intstr.IntOrString `json:"transfer_pod_cpu_request,omitempty"`
	// TransferPodMemoryRequest is the memory request of rsync transfer (destination) pods.
	// +optional
	TransferPodMemoryRequest *intstr.IntOrString `json:"transfer_pod_memory_request,omitempty"`
	// HookPodCPULimit is the CPU limit of hook Job pods (Ferry's; default "1").
	// +optional
	HookPodCPULimit *intstr.IntOrString `json:"hook_pod_cpu_limit,omitempty"`
	// HookPodMemoryLimit is the memory limit of hook Job pods (Ferry's; default "1Gi").
	// +optional
	HookPodMemoryLimit *intstr.IntOrString `json:"hook_pod_memory_limit,omitempty"`
	// HookPodCPURequest is the CPU request of hook Job pods (Ferry's; default "100m").
	// +optional
	HookPodCPURequest *intstr.IntOrString `json:"hook_pod_cpu_request,omitempty"`
	// HookPodMemoryRequest is the memory request of hook Job pods (Ferry's; default "256Mi").
	// +optional
	HookPodMemoryRequest *intstr.IntOrString `json:"hook_pod_memory_request,omitempty"`
	// MigrationNoProgressWarningMinutes is how long a migration or DVM phase that waits on
	// other components (Velero Backups and Restores, hook Jobs, the DVM, rsync and its pods) may
	// see no progress before a NoProgress warning says what it waits for (Ferry's; default
	// 10). A number of minutes, or a duration with its unit such as "90s".
	// +optional
	MigrationNoProgressWarningMinutes *intstr.IntOrString `json:"migration_no_progress_warning_minutes,omitempty"`
	// MigrationNoProgressTimeoutMinutes is how long such a phase may see no progress before it
	// fails the migration (reason NoProgressTimeout), which then runs its Failed itinerary and
	// starts the source applications again (Ferry's; default 60). A number of minutes, or a
	// duration with its unit such as "5m".
	// +optional
	MigrationNoProgressTimeoutMinutes *intstr.IntOrString `json:"migration_no_progress_timeout_minutes,omitempty"`
	// NoProxy lists destinations that bypass httpProxy and httpsProxy.
	// +optional
	NoProxy string `json:"noProxy,omitempty"`
	// HTTPProxy is the proxy for http connections.
	// +optional
	HTTPProxy string `json:"httpProxy,omitempty"`
	// HTTPSProxy is the proxy for https connections.
	// +optional
	HTTPSProxy string `json:"httpsProxy,omitempty"`
	// RsyncTransferImage is the image of the rsync and stunnel containers.
	// +optional
	RsyncTransferImage string `json:"rsync_transfer_image,omitempty"`
	// HookRunnerImage is the image that runs Ansible hooks.
	// +optional
	HookRunnerImage string `json:"hook_runner_image,omitempty"`
	// VeleroNamespace is the namespace of Velero (Ferry addition; default openshift-migration).
	// +optional
	VeleroNamespace string `json:"velero_namespace,omitempty"`
	// MigrationVelero deploys Velero on this cluster.
	// +optional
	MigrationVelero *bool `json:"migration_velero,omitempty"`
	// VeleroImageFqin is the image of the Velero server (and node-agent) that migration_velero
	// deploys (default: Ferry's pinned Velero release).
	// +optional
	VeleroImageFqin string `json:"velero_image_fqin,omitempty"`
	// VeleroAWSPluginFqin is the image of Velero's AWS object-store plugin that migration_velero
	// deploys (default: the plugin release pinned with Velero).
	// +optional
	VeleroAWSPluginFqin string `json:"velero_aws_plugin_fqin,omitempty"`
	// EnableWarmSync lets a cutover copy its volumes while the applications still run, repeat
	// while the changes shrink, and quiesce the applications only for the last small delta
	// (Ferry's; default true). False copies everything after quiescing, as MTC does.
	// +optional
	EnableWarmSync *bool `json:"enable_warm_sync,omitempty"`
	// MigrationUI deploys the web console on this cluster.
	// +optional
	MigrationUI *bool `json:"migration_ui,omitempty"`
	// MigrationController runs the migration controllers on this cluster.
	// +optional
	MigrationController *bool `json:"migration_controller,omitempty"`
	// ClusterName is the name of this cluster, for example host.
	// +optional
	ClusterName string `json:"cluster_name,omitempty"`
}

// MigrationController condition types and reasons. Running (reason Successful) is what MTC's
// operator shows on a MigrationController it applied; Ferry adds the two warnings, so that no
// setting is ignored or replaced by its default in silence.
const (
	// InvalidSettings: Warn, InvalidValue; the message names each value and says its default applies.
	InvalidSettings = "InvalidSettings"
	// UnsupportedSettings: Warn, NotSupported; the message names each setting Ferry does not act on, and why.
	UnsupportedSettings = "UnsupportedSettings"
	// Successful: the MigrationController's settings are in force (Running True).
	Successful = "Successful"
	// NotInForce: another MigrationController of the namespace is in force (Running False).
	NotInForce = "NotInForce"
	// InvalidValue: a setting's value does not parse or is out of range.
	InvalidValue = "InvalidValue"
	// VeleroReady: Advisory, Deployed; with migration_velero, the Velero the operator deploys
	// is rolled out and available.
	VeleroReady = "VeleroReady"
	// VeleroNotReady: Warn; with migration_velero, Velero is not available yet, with one of
	// the reasons below and what to do in the message.
	VeleroNotReady = "VeleroNotReady"
	// Deployed: Velero runs from the images in force.
	Deployed = "Deployed"
	// Deploying: the rollout of Velero's Deployment is in progress (or its pods do not start).
	Deploying = "Deploying"
	// NotInstallable: config/velero is not applied, or the operator may not create the Deployment.
	NotInstallable = "NotInstallable"
	// NotManaged: a Velero Deployment exists that the operator did not create; it is left alone.
	NotManaged = "NotManaged"
)

// MigrationControllerStatus is what the operator observed about its settings.
type MigrationControllerStatus struct {
	// Conditions are the conditions of the settings.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// ObservedGeneration is the spec generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// MigrationController holds the operator settings, as MTC's MigrationController CR does.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type MigrationController struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the settings; unknown MTC operator fields are preserved.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:XPreserveUnknownFields
	Spec   MigrationControllerSpec   `json:"spec,omitempty"`
	Status MigrationControllerStatus `json:"status,omitempty"`
}

// MigrationControllerList is a list of MigrationControllers.
//
// +kubebuilder:object:root=true
type MigrationControllerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MigrationController `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *MigrationController) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *MigrationController) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&MigrationController{}, &MigrationControllerList{})
}
