package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MigPlan condition types (MTC names). Several are shared with DVM, DIM and DISM, which
// validate the same cluster references and namespaces.
const (
	// Cluster and storage references.
	InvalidSourceClusterRef          = "InvalidSourceClusterRef"          // Critical: NotSet / NotFound.
	InvalidDestinationClusterRef     = "InvalidDestinationClusterRef"     // Critical: NotSet / NotFound.
	SourceClusterNotReady            = "SourceClusterNotReady"            // Critical.
	DestinationClusterNotReady       = "DestinationClusterNotReady"       // Critical.
	SourceClusterNotPrivileged       = "SourceClusterNotPrivileged"       // Critical (Ferry): the source's token lacks permissions of a source.
	DestinationClusterNotPrivileged  = "DestinationClusterNotPrivileged"  // Critical (Ferry): likewise for the destination.
	SourceClusterNoRegistryPath      = "SourceClusterNoRegistryPath"      // Critical: NotSet, direct image migration.
	DestinationClusterNoRegistryPath = "DestinationClusterNoRegistryPath" // Critical: NotSet, direct image migration.
	InvalidStorageRef                = "InvalidStorageRef"                // Critical: NotSet / NotFound.
	StorageNotReady                  = "StorageNotReady"                  // Critical.
	ClusterVersionMismatch           = "ClusterVersionMismatch"           // Warn: Conflict, operator versions differ.

	// Migration type and namespaces.
	MigrationTypeIdentified                = "MigrationTypeIdentified"                // Advisory; reason is the plan type.
	IntraClusterMigration                  = "IntraClusterMigration"                  // Critical or Warn, see reasons.
	NamespaceListEmpty                     = "NamespaceListEmpty"                     // Critical: NotFound.
	NamespaceLimitExceeded                 = "NamespaceLimitExceeded"                 // Critical: LimitExceeded.
	NamespaceLengthExceeded                = "NamespaceLengthExceeded"                // Warn: LengthExceeded.
	PodLimitExceeded                       = "PodLimitExceeded"                       // Warn: LimitExceeded.
	NamespacesHaveNodeSelectors            = "NamespacesHaveNodeSelectors"            // Warn, durable: NodeSelectorsDetected.
	DuplicateNamespaceOnSourceCluster      = "DuplicateNamespaceOnSourceCluster"      // Critical: DuplicateNamespaces.
	DuplicateNamespaceOnDestinationCluster = "DuplicateNamespaceOnDestinationCluster" // Critical: DuplicateNamespaces.
	NamespaceNotDNSCompliant               = "NamespaceNotDNSCompliant"               // Critical: NotDNSCompliant.
	NamespaceNotFoundOnSourceCluster       = "NamespaceNotFoundOnSourceCluster"       // Critical: NotFound.
	NamespaceNotFoundOnDestinationCluster  = "NamespaceNotFoundOnDestinationCluster"  // Critical: NotFound.
	PlanConflict                           = "PlanConflict"                           // Error: Conflict.
	SourcePodsNotHealthy                   = "SourcePodsNotHealthy"                   // Warn: NotHealthy.
	GVKsIncompatible                       = "GVKsIncompatible"                       // Warn.
	InvalidResourceList                    = "InvalidResourceList"                    // Critical.
	InvalidNamespaceMapping                = "InvalidNamespaceMapping"                // Critical: Malformed (Ferry: MTC accepted bad strings silently).
	InvalidLabelSelector                   = "InvalidLabelSelector"                   // Critical: Malformed (Ferry: MTC failed later, in Velero).

	// Proxy secrets.
	SourceClusterProxySecretMisconfigured      = "SourceClusterProxySecretMisconfigured"      // Critical: Conflict / KeyNotFound.
	DestinationClusterProxySecretMisconfigured = "DestinationClusterProxySecretMisconfigured" // Critical: Conflict / KeyNotFound.

	// Hooks.
	InvalidHookRef     = "InvalidHookRef"     // Critical: NotFound.
	InvalidHookSAName  = "InvalidHookSAName"  // Critical.
	InvalidHookNSName  = "InvalidHookNSName"  // Critical.
	HookNotReady       = "HookNotReady"       // Critical.
	HookPhaseUnknown   = "HookPhaseUnknown"   // Critical.
	HookPhaseDuplicate = "HookPhaseDuplicate" // Critical.

	// KubeVirt live migration (liveMigrate=true).
	KubeVirtNotInstalledSourceCluster      = "KubeVirtNotInstalledSourceCluster"      // Advisory: NotFound.
	KubeVirtVersionNotSupported            = "KubeVirtVersionNotSupported"            // Warn: NotSupported.
	KubeVirtStorageLiveMigrationNotEnabled = "KubeVirtStorageLiveMigrationNotEnabled" // Warn.

	// Plan lifecycle.
	Suspended         = "Suspended"         // Advisory: a migration runs or a final one succeeded.
	Closed            = "Closed"            // Advisory: spec.closed was handled.
	StorageEnsured    = "StorageEnsured"    // Required: Done, BSL/VSL/secrets exist on both clusters.
	RegistriesEnsured = "RegistriesEnsured" // Required: migration registries exist (indirect images).
	// RetireWaitingForMigrations: Warn (Ferry's); the plan is closed or being deleted while
	// migrations of it still run: its storage is removed once they have ended (canceled).
	RetireWaitingForMigrations = "RetireWaitingForMigrations"
	// DestinationPVCsExist: Warn (Ferry's); destination PVCs of the plan already exist and no
	// migration of the plan created them: a migration refuses to copy into them unless
	// ReuseExistingDestinationPVCsAnnotation is set.
	DestinationPVCsExist = "DestinationPVCsExist"
	// PvListTooLarge: Critical (Ferry's); the discovered PVs do not fit in the MigPlan object
	// (the API server and etcd store at most about 1.5 MiB per object, some 4,000 PVs): the
	// plan keeps its previous list and is not Ready; split its namespaces over several plans.
	PvListTooLarge = "PvListTooLarge"

	// PV discovery and selection.
	PvsDiscovered               = "PvsDiscovered"               // Required: Done.
	PvLimitExceeded             = "PvLimitExceeded"             // Warn.
	PvWarnNoCephAvailable       = "PvWarnNoCephAvailable"       // Warn.
	NfsAccessCannotBeValidated  = "NfsAccessCannotBeValidated"  // Error: NotFound.
	NfsNotAccessible            = "NfsNotAccessible"            // Warn.
	PvInvalidAction             = "PvInvalidAction"             // Error: NotDone.
	PvNoSupportedAction         = "PvNoSupportedAction"         // Warn.
	PvNoStorageClassSelection   = "PvNoStorageClassSelection"   // Warn: NotFound.
	PvInvalidStorageClass       = "PvInvalidStorageClass"       // Error: NotDone.
	PvInvalidAccessMode         = "PvInvalidAccessMode"         // Error.
	PvWarnAccessModeUnavailable = "PvWarnAccessModeUnavailable" // Warn.
	PvNoCopyMethodSelection     = "PvNoCopyMethodSelection"     // Error: NotFound.
	PvInvalidCopyMethod         = "PvInvalidCopyMethod"         // Error.
	PvWarnCopyMethodSnapshot    = "PvWarnCopyMethodSnapshot"    // Warn.
	// PvBlockCopyUnsupported (Ferry's; Error) names the PVs to copy that are block-mode volumes
	// or use copyMethod block: the transfer mounts file systems only, so they are refused up
	// front rather than failing in the middle of a cutover.
	PvBlockCopyUnsupported            = "PvBlockCopyUnsupported"
	PvNameConflict                    = "PvNameConflict"                    // Error; also a MigMigration reason.
	StorageClassConversionUnavailable = "StorageClassConversionUnavailable" // Critical.
	// WorkloadsCannotSwapPVCs (Ferry's; Critical, NotSupported) names the StatefulSets a storage
	// conversion could not point at the copies (some of a claim template's claims selected and
	// others not, copies that name no template of the set, a set name too long to recreate):
	// MTC found out at SwapPVCReferences, after quiescing the applications and copying the data.
	WorkloadsCannotSwapPVCs = "WorkloadsCannotSwapPVCs"

	// PV resizing.
	PvCapacityAdjustmentRequired = "PvCapacityAdjustmentRequired" // Warn, durable: NotDone / Done.
	PvUsageAnalysisFailed        = "PvUsageAnalysisFailed"        // Warn.
)

// MigPlan condition reasons (MTC names), besides the shared NotSet, NotFound, NotReady,
// NotSupported and NotDistinct.
const (
	KeyNotFound            = "KeyNotFound"            // A required Secret key is missing.
	LimitExceeded          = "LimitExceeded"          // A namespace, pod or PV limit is exceeded.
	LengthExceeded         = "LengthExceeded"         // A namespace name is too long for a route.
	NotDNSCompliant        = "NotDNSCompliant"        // A namespace name is not a DNS-1123 label.
	NotDone                = "NotDone"                // Work is still required.
	Done                   = "Done"                   // Work is complete.
	Conflict               = "Conflict"               // Conflicting objects or settings.
	NotHealthy             = "NotHealthy"             // Unhealthy pods were found.
	NodeSelectorsDetected  = "NodeSelectorsDetected"  // Pods use non-default node selectors.
	DuplicateNamespaces    = "DuplicateNamespaces"    // A namespace is listed twice.
	ConflictingNamespaces  = "ConflictingNamespaces"  // Intra-cluster plan maps only some namespaces.
	ConflictingPermissions = "ConflictingPermissions" // Destination namespace has other SCC ranges.
	Malformed              = "Malformed"              // A value does not parse (Ferry).
)

// Migration plan types: reasons of the MigrationTypeIdentified condition.
const (
	NamespaceMigrationPlan = "NamespaceMigrationPlan" // Full namespace migration.
	StateMigrationPlan     = "StateMigrationPlan"     // PVs and selected resources only.
	StorageConversionPlan  = "StorageConversionPlan"  // Same cluster, same namespaces, new storage.
)

// PV actions, as used in PV.Supported.Actions and PV.Selection.Action.
const (
	PvMoveAction = "move" // Reuse the volume in place (NFS, EBS, listed storage classes).
	PvCopyAction = "copy" // Copy the data to a new volume.
	PvSkipAction = "skip" // Leave the volume out.
)

// PV copy methods, as used in PV.Supported.CopyMethods and PV.Selection.CopyMethod.
const (
	PvFilesystemCopyMethod = "filesystem" // File copy (rsync or Restic).
	PvBlockCopyMethod      = "block"      // Block device copy.
	PvSnapshotCopyMethod   = "snapshot"   // Provider volume snapshot.
)

// Hook phases, as used in MigPlanHook.Phase.
const (
	HookPhasePreBackup   = "PreBackup"
	HookPhasePostBackup  = "PostBackup"
	HookPhasePreRestore  = "PreRestore"
	HookPhasePostRestore = "PostRestore"
)

// OwnerType is the kind of workload that owns the pods mounting a PVC.
type OwnerType string

// Owner types.
const (
	OwnerTypeVirtualMachine   OwnerType = "VirtualMachine"
	OwnerTypeDeployment       OwnerType = "Deployment"
	OwnerTypeDeploymentConfig OwnerType = "DeploymentConfig"
	OwnerTypeStatefulSet      OwnerType = "StatefulSet"
	OwnerTypeReplicaSet       OwnerType = "ReplicaSet"
	OwnerTypeDaemonSet        OwnerType = "DaemonSet"
	OwnerTypeJob              OwnerType = "Job"
	OwnerTypeCronJob          OwnerType = "CronJob"
	OwnerTypeUnknown          OwnerType = "Unknown"
)

// MigPlanSpec describes what to migrate, from where, to where and through which storage.
type MigPlanSpec struct {
	// PersistentVolumes lists the discovered PVs with the user's selections. The controller
	// refreshes everything but the selection.
	// +optional
	PersistentVolumes []PV `json:"persistentVolumes,omitempty"`
	// Namespaces lists the namespaces to migrate, each "src" or "src:dest".
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`
	// SrcMigClusterRef references the source MigCluster.
	// +optional
	SrcMigClusterRef *corev1.ObjectReference `json:"srcMigClusterRef,omitempty"`
	// DestMigClusterRef references the destination MigCluster.
	// +optional
	DestMigClusterRef *corev1.ObjectReference `json:"destMigClusterRef,omitempty"`
	// MigStorageRef references the MigStorage used as replication repository.
	// +optional
	MigStorageRef *corev1.ObjectReference `json:"migStorageRef,omitempty"`
	// Closed retires the plan: its helper resources are removed and no migration may run.
	// +optional
	Closed bool `json:"closed,omitempty"`
	// Hooks are the MigHooks to run, at most one per phase.
	// +optional
	Hooks []MigPlanHook `json:"hooks,omitempty"`
	// Refresh asks for rediscovery and revalidation; the controller sets it back to false.
	// +optional
	Refresh bool `json:"refresh,omitempty"`
	// IndirectImageMigration copies images through Velero and a migration registry instead
	// of registry to registry.
	// +optional
	IndirectImageMigration bool `json:"indirectImageMigration,omitempty"`
	// IndirectVolumeMigration copies volumes through the replication repository (stage pods and
	// Velero's node-agent, MTC's Restic) instead of rsync.
	// +optional
	IndirectVolumeMigration bool `json:"indirectVolumeMigration,omitempty"`
	// IncludedResources restricts the initial backup to these kinds.
	// +optional
	IncludedResources []*metav1.GroupKind `json:"includedResources,omitempty"`
	// LabelSelector restricts the initial backup and the image streams to matching objects.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
	// LiveMigrate migrates the storage of running KubeVirt VMs live during volume migration.
	// +optional
	LiveMigrate *bool `json:"liveMigrate,omitempty"`
}

// PV is a discovered persistent volume and what to do with it.
type PV struct {
	// Name of the PersistentVolume.
	// +optional
	Name string `json:"name,omitempty"`
	// Capacity of the PersistentVolume.
	// +optional
	Capacity resource.Quantity `json:"capacity,omitempty"`
	// StorageClass of the PersistentVolume on the source cluster.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`
	// Supported lists the actions and copy methods available for this PV.
	// +optional
	Supported Supported `json:"supported,omitempty"`
	// Selection is the user's choice among the supported options.
	// +optional
	Selection Selection `json:"selection,omitempty"`
	// PVC is the claim bound to the PV.
	// +optional
	PVC PVC `json:"pvc,omitempty"`
	// CapacityConfirmed says the user accepted the proposed capacity.
	// +optional
	CapacityConfirmed bool `json:"capacityConfirmed,omitempty"`
	// ProposedCapacity is the capacity suggested by PV usage analysis.
	// +optional
	ProposedCapacity resource.Quantity `json:"proposedCapacity,omitempty"`
}

// Supported lists what can be done with a PV.
type Supported struct {
	// Actions are the supported actions: copy, move, skip.
	// +optional
	Actions []string `json:"actions,omitempty"`
	// CopyMethods are the supported copy methods: filesystem, block, snapshot.
	// +optional
	CopyMethods []string `json:"copyMethods,omitempty"`
}

// Selection is the user's choice for a PV.
type Selection struct {
	// Action is copy, move or skip.
	// +optional
	Action string `json:"action,omitempty"`
	// StorageClass is the destination storage class; empty means none.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`
	// AccessMode is the destination access mode; empty keeps the source PVC's modes.
	// +optional
	AccessMode corev1.PersistentVolumeAccessMode `json:"accessMode,omitempty"`
	// CopyMethod is filesystem, block or snapshot.
	// +optional
	CopyMethod string `json:"copyMethod,omitempty"`
	// Verify checks the copied data (filesystem copy only).
	// +optional
	Verify bool `json:"verify,omitempty"`
}

// PVC describes the claim of a discovered PV.
type PVC struct {
	// Name of the claim, "src" or "src:dest" to rename it on the destination.
	// +optional
	Name string `json:"name,omitempty"`
	// Namespace of the claim on the source cluster.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// AccessModes of the claim.
	// +optional
	AccessModes []corev1.PersistentVolumeAccessMode `json:"accessModes,omitempty"`
	// VolumeMode of the claim.
	// +optional
	VolumeMode corev1.PersistentVolumeMode `json:"volumeMode,omitempty"`
	// HasReference says a running pod or a workload template mounts the claim.
	// +optional
	HasReference bool `json:"hasReference,omitempty"`
	// OwnerType is the kind of workload owning the pods that mount the claim.
	// +optional
	OwnerType OwnerType `json:"ownerType,omitempty"`
}

// MigPlanHook attaches a MigHook to a migration phase.
type MigPlanHook struct {
	// Reference names the MigHook.
	Reference *corev1.ObjectReference `json:"reference"`
	// Phase is PreBackup, PostBackup, PreRestore or PostRestore.
	// +optional
	Phase string `json:"phase,omitempty"`
	// ExecutionNamespace is the namespace the hook Job runs in.
	// +optional
	ExecutionNamespace string `json:"executionNamespace,omitempty"`
	// ServiceAccount is the service account of the hook Job.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// UnhealthyNamespace lists the unhealthy workloads of a namespace.
type UnhealthyNamespace struct {
	// Name of the namespace.
	Name string `json:"name"`
	// Workloads are the unhealthy workloads of the namespace.
	// +optional
	Workloads []Workload `json:"workloads,omitempty"`
}

// Workload is an unhealthy workload and its unhealthy resources.
type Workload struct {
	// Name of the workload.
	Name string `json:"name"`
	// Resources are the unhealthy resources, for example pods.
	// +optional
	Resources []string `json:"resources,omitempty"`
}

// IncompatibleNamespace lists the kinds of a namespace the destination does not serve.
type IncompatibleNamespace struct {
	// Name of the namespace.
	Name string `json:"name"`
	// GVKs are the incompatible kinds.
	// +optional
	GVKs []IncompatibleGVK `json:"gvks,omitempty"`
}

// IncompatibleGVK is a group, version and kind missing on the destination. As in MTC, Kind
// holds the resource name.
type IncompatibleGVK struct {
	// Group of the resource.
	Group string `json:"group"`
	// Version of the resource.
	Version string `json:"version"`
	// Kind holds the resource (plural) name.
	Kind string `json:"kind"`
}

// MigPlanStatus is what the controller observed about a plan.
type MigPlanStatus struct {
	// Conditions are the MTC conditions of the plan.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// Namespaces lists unhealthy workloads found in the source namespaces.
	// +optional
	Namespaces []UnhealthyNamespace `json:"namespaces,omitempty"`
	// IncompatibleNamespaces lists kinds that the destination cluster does not serve.
	// +optional
	IncompatibleNamespaces []IncompatibleNamespace `json:"incompatibleNamespaces,omitempty"`
	// Suffix is a random string, generated once, for renamed PVCs of storage conversion.
	// +optional
	Suffix *string `json:"suffix,omitempty"`
	// ObservedDigest is kept for compatibility with MTC tooling.
	// +optional
	ObservedDigest string `json:"observedDigest,omitempty"`
	// ObservedGeneration is the spec generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// ExcludedResources are the resources excluded from every backup and restore.
	// +optional
	ExcludedResources []string `json:"excludedResources,omitempty"`
	// SrcStorageClasses are the storage classes of the source cluster.
	// +optional
	SrcStorageClasses []StorageClass `json:"srcStorageClasses,omitempty"`
	// DestStorageClasses are the storage classes of the destination cluster.
	// +optional
	DestStorageClasses []StorageClass `json:"destStorageClasses,omitempty"`
}

// MigPlan describes a migration: namespaces, clusters, storage, PVs and hooks.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=".spec.srcMigClusterRef.name"
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=".spec.destMigClusterRef.name"
// +kubebuilder:printcolumn:name="Storage",type=string,JSONPath=".spec.migStorageRef.name"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type MigPlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MigPlanSpec   `json:"spec,omitempty"`
	Status MigPlanStatus `json:"status,omitempty"`
}

// MigPlanList is a list of MigPlans.
//
// +kubebuilder:object:root=true
type MigPlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MigPlan `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *MigPlan) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *MigPlan) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&MigPlan{}, &MigPlanList{})
}
