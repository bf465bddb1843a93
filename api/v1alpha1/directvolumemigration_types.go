package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DirectVolumeMigration condition types (MTC names). DVMs also use the shared
// InvalidSourceClusterRef, InvalidDestinationClusterRef, SourceClusterNotReady,
// DestinationClusterNotReady, Running, Succeeded and Failed.
const (
	// InvalidPVCs: Critical, NotSet; spec.persistentVolumeClaims is empty.
	InvalidPVCs = "InvalidPVCs"
	// PVCsNotFoundOnSourceCluster: Critical; source PVCs are missing. The MTC condition
	// type is "PodsNotFoundOnSourceCluster".
	PVCsNotFoundOnSourceCluster = "PodsNotFoundOnSourceCluster"
	// RsyncRouteNotAdmitted: Warn; the transfer route was not admitted within 3 minutes.
	RsyncRouteNotAdmitted = "RsyncRouteNotAdmitted"
	// RsyncTransferPodsPending: Warn; transfer pods did not run within 3 minutes.
	RsyncTransferPodsPending = "RsyncTransferPodsPending"
	// RsyncClientPodsPending: Warn; client pods were Pending for more than 10 minutes.
	RsyncClientPodsPending = "RsyncClientPodsPending"
	// RsyncServerPodsRunningAsNonRoot: Warn; root was requested but the namespace forbids it.
	RsyncServerPodsRunningAsNonRoot = "RsyncServerPodsRunningAsNonRoot"
	// ClusterIPAcrossClusters: Warn (Ferry's); rsync_endpoint_type is ClusterIP but the source
	// and destination are different clusters, whose pods reach each other's ClusterIPs only
	// through a multi-cluster network.
	ClusterIPAcrossClusters = "ClusterIPAcrossClusters"
	// FailedCreatingRsyncPods: Warn; the cluster refuses to create rsync pods (quota,
	// LimitRange, Pod Security admission): the message is the API's. Ferry raises it at the
	// first refusal and retries; MTC raised it after 5 minutes of errors.
	FailedCreatingRsyncPods = "FailedCreatingRsyncPods"
	// SourceToDestinationNetworkError: Critical, durable; rsync could not reach the
	// destination.
	SourceToDestinationNetworkError = "SourceToDestinationNetworkError"
	// InvalidTransferSettings: Critical (Ferry's), NotSupported; a MigrationController
	// setting the transfer would use (stunnel_tcp_proxy) is malformed or holds characters
	// that could add lines to a configuration file. Raised before anything is created.
	InvalidTransferSettings = "InvalidTransferSettings"
	// RsyncOptionsIgnored: Warn (Ferry's); rsync_opt_extras holds options outside the
	// allowlist, which are left out of the transfer.
	RsyncOptionsIgnored = "RsyncOptionsIgnored"
	// RsyncFiltersInEffect: Warn (Ferry's); rsync_opt_extras holds --exclude/--include
	// filters: the files they leave out are not migrated.
	RsyncFiltersInEffect = "RsyncFiltersInEffect"
	// DestinationPVCsNotOwned: Critical, durable (Ferry's); destination PVCs exist that this
	// DVM (or another DVM of its plan) did not create, and nothing opted in to copying into
	// them (ReuseExistingDestinationPVCsAnnotation). The DVM fails before any transfer pod
	// exists; the message names the PVCs.
	DestinationPVCsNotOwned = "DestinationPVCsNotOwned"
)

// ReuseExistingDestinationPVCsAnnotation set to "true" on a DirectVolumeMigration (or on the
// MigPlan, which hands it to the DVMs its migrations create) lets the DVM copy into destination
// PVCs that already exist although no migration of the plan (no standalone DVM: not this one)
// created them. rsync then overwrites their files and, with rsync_opt_delete (the default),
// deletes the files the source does not hold. Without it such a DVM fails with
// DestinationPVCsNotOwned before it writes anything.
const ReuseExistingDestinationPVCsAnnotation = "ferrymtc.io/reuse-existing-destination-pvcs"

// DirectVolumeMigration condition reasons (MTC names).
const (
	// RsyncTimedOut: every attempt ended after the stunnel connect timeout.
	RsyncTimedOut = "RsyncTimedOut"
	// RsyncNoRouteToHost: every attempt failed with "No route to host".
	RsyncNoRouteToHost = "RsyncNoRouteToHost"
)

// DirectVolumeMigrationFinalizer lets the controller clean remote transfer resources up.
const DirectVolumeMigrationFinalizer = "migration.openshift.io/directvolumemigrationfinalizer"

// DirectVolumeMigrationType tells which kind of migration a DVM belongs to.
// +kubebuilder:validation:Enum=Stage;CutOver;Rollback
type DirectVolumeMigrationType string

// Direct volume migration types.
const (
	// MigrationTypeStage copies data while the applications run.
	MigrationTypeStage DirectVolumeMigrationType = "Stage"
	// MigrationTypeFinal is the final copy (cutover).
	MigrationTypeFinal DirectVolumeMigrationType = "CutOver"
	// MigrationTypeRollback copies data back for a rollback.
	MigrationTypeRollback DirectVolumeMigrationType = "Rollback"
)

// DirectVolumeMigrationSpec lists the PVCs to copy with rsync and the two clusters.
type DirectVolumeMigrationSpec struct {
	// SrcMigClusterRef references the source MigCluster.
	// +optional
	SrcMigClusterRef *corev1.ObjectReference `json:"srcMigClusterRef,omitempty"`
	// DestMigClusterRef references the destination MigCluster.
	// +optional
	DestMigClusterRef *corev1.ObjectReference `json:"destMigClusterRef,omitempty"`
	// BackOffLimit is the number of rsync attempts per PVC; 20 when 0.
	// +optional
	BackOffLimit int `json:"backOffLimit,omitempty"`
	// PersistentVolumeClaims are the PVCs to migrate.
	// +optional
	PersistentVolumeClaims []PVCToMigrate `json:"persistentVolumeClaims,omitempty"`
	// CreateDestinationNamespaces creates missing destination namespaces.
	// +optional
	CreateDestinationNamespaces bool `json:"createDestinationNamespaces,omitempty"`
	// DeleteProgressReportingCRs deletes the DVMPs when cleaning up.
	// +optional
	DeleteProgressReportingCRs bool `json:"deleteProgressReportingCRs,omitempty"`
	// LiveMigrate migrates the volumes of running VMs live instead of copying them.
	// +optional
	LiveMigrate *bool `json:"liveMigrate,omitempty"`
	// MigrationType is Stage, CutOver or Rollback.
	// +optional
	MigrationType *DirectVolumeMigrationType `json:"migrationType,omitempty"`
	// RunAsRoot runs the transfer pods as root, which keeping owners and groups needs; it is
	// honoured only in namespaces whose Pod Security level is privileged. Otherwise the pods
	// meet the restricted level. A MigMigration copies its own runAsRoot, runAsUser and
	// runAsGroup here (Ferry's addition: MTC read them from the owning migration).
	// +optional
	RunAsRoot *bool `json:"runAsRoot,omitempty"`
	// RunAsUser is the user ID of non-root transfer pods.
	// +optional
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// RunAsGroup is the group ID of non-root transfer pods (also their fsGroup).
	// +optional
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`
}

// PVCToMigrate is a source PVC (namespace and name of the inlined reference) and where to
// copy it.
type PVCToMigrate struct {
	// ObjectReference is the source PVC; only namespace and name are used.
	*corev1.ObjectReference `json:",inline"`
	// TargetStorageClass is the storage class of the destination PVC.
	TargetStorageClass string `json:"targetStorageClass"`
	// TargetAccessModes are the access modes of the destination PVC.
	TargetAccessModes []corev1.PersistentVolumeAccessMode `json:"targetAccessModes"`
	// TargetVolumeMode is the volume mode of the destination PVC.
	// +optional
	TargetVolumeMode *corev1.PersistentVolumeMode `json:"targetVolumeMode,omitempty"`
	// TargetNamespace is the namespace of the destination PVC.
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`
	// TargetName is the name of the destination PVC.
	// +optional
	TargetName string `json:"targetName,omitempty"`
	// Verify checks the copied data (rsync --checksum).
	// +optional
	Verify bool `json:"verify,omitempty"`
}

// PodProgress is the progress of an rsync client pod (the inlined reference).
type PodProgress struct {
	// ObjectReference is the rsync client pod.
	*corev1.ObjectReference `json:",inline"`
	// PVCReference is the PVC the pod copies.
	// +optional
	PVCReference *corev1.ObjectReference `json:"pvcRef,omitempty"`
	// LastObservedProgressPercent is the last progress reported by rsync, for example "42%".
	// +optional
	LastObservedProgressPercent string `json:"lastObservedProgressPercent,omitempty"`
	// LastObservedTransferRate is the last transfer rate reported by rsync.
	// +optional
	LastObservedTransferRate string `json:"lastObservedTransferRate,omitempty"`
	// TotalElapsedTime is the time spent on the PVC over all attempts.
	// +optional
	TotalElapsedTime *metav1.Duration `json:"totalElapsedTime,omitempty"`
}

// LiveMigrationProgress is the progress of a KubeVirt storage live migration.
type LiveMigrationProgress struct {
	// VMName is the name of the virtual machine.
	// +optional
	VMName string `json:"vmName,omitempty"`
	// VMNamespace is the namespace of the virtual machine.
	// +optional
	VMNamespace string `json:"vmNamespace,omitempty"`
	// PVCReference is the PVC being migrated.
	// +optional
	PVCReference *corev1.ObjectReference `json:"pvcRef,omitempty"`
	// LastObservedProgressPercent is the last observed progress, for example "42%".
	// +optional
	LastObservedProgressPercent string `json:"lastObservedProgressPercent,omitempty"`
	// LastObservedTransferRate is the last observed transfer rate.
	// +optional
	LastObservedTransferRate string `json:"lastObservedTransferRate,omitempty"`
	// TotalElapsedTime is the time spent on the live migration.
	// +optional
	TotalElapsedTime *metav1.Duration `json:"totalElapsedTime,omitempty"`
	// Message explains a failure or a blocked live migration.
	// +optional
	Message string `json:"message,omitempty"`
}

// RsyncOperation is the state of the rsync attempts for one PVC.
type RsyncOperation struct {
	// PVCReference is the source PVC.
	// +optional
	PVCReference *corev1.ObjectReference `json:"pvcReference,omitempty"`
	// CurrentAttempt is the number of the current attempt, starting at 1.
	// +optional
	CurrentAttempt int `json:"currentAttempt,omitempty"`
	// Succeeded says the operation as a whole succeeded.
	// +optional
	Succeeded bool `json:"succeeded,omitempty"`
	// Failed says the operation as a whole failed.
	// +optional
	Failed bool `json:"failed,omitempty"`
}

// DirectVolumeMigrationStatus is the progress of a direct volume migration.
type DirectVolumeMigrationStatus struct {
	// Conditions are the MTC conditions of the DVM.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// ObservedDigest is kept for compatibility with MTC tooling.
	// +optional
	ObservedDigest string `json:"observedDigest,omitempty"`
	// ObservedGeneration is the spec generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// StartTimestamp is when the DVM started running.
	// +optional
	StartTimestamp *metav1.Time `json:"startTimestamp,omitempty"`
	// PhaseDescription describes the current phase for humans.
	// +optional
	PhaseDescription string `json:"phaseDescription,omitempty"`
	// Phase is the current phase of the itinerary.
	// +optional
	Phase string `json:"phase,omitempty"`
	// Itinerary is the name of the itinerary being run.
	// +optional
	Itinerary string `json:"itinerary,omitempty"`
	// ProgressWatch is what the current phase waits for and since when what it observed has
	// not changed (Ferry): the no-progress watchdog's memory.
	// +optional
	ProgressWatch *ProgressWatch `json:"progressWatch,omitempty"`
	// Errors are the de-duplicated errors that failed the DVM.
	// +optional
	Errors []string `json:"errors,omitempty"`
	// SuccessfulPods are the rsync pods that succeeded.
	// +optional
	SuccessfulPods []*PodProgress `json:"successfulPods,omitempty"`
	// FailedPods are the rsync pods of failed operations.
	// +optional
	FailedPods []*PodProgress `json:"failedPods,omitempty"`
	// RunningPods are the rsync pods that are running.
	// +optional
	RunningPods []*PodProgress `json:"runningPods,omitempty"`
	// PendingPods are the rsync pods that are pending.
	// +optional
	PendingPods []*PodProgress `json:"pendingPods,omitempty"`
	// UnknownPods are the rsync pods whose phase is not known yet.
	// +optional
	UnknownPods []*PodProgress `json:"unknownPods,omitempty"`
	// PendingSinceTimeLimitPods are the rsync pods pending for more than 10 minutes.
	// +optional
	PendingSinceTimeLimitPods []*PodProgress `json:"pendingSinceTimeLimitPods,omitempty"`
	// SuccessfulLiveMigrations are the live migrations that succeeded.
	// +optional
	SuccessfulLiveMigrations []*LiveMigrationProgress `json:"successfulLiveMigration,omitempty"`
	// RunningLiveMigrations are the live migrations in progress.
	// +optional
	RunningLiveMigrations []*LiveMigrationProgress `json:"runningLiveMigration,omitempty"`
	// PendingLiveMigrations are the live migrations not started yet.
	// +optional
	PendingLiveMigrations []*LiveMigrationProgress `json:"pendingLiveMigration,omitempty"`
	// FailedLiveMigrations are the live migrations that failed.
	// +optional
	FailedLiveMigrations []*LiveMigrationProgress `json:"failedLiveMigration,omitempty"`
	// RsyncOperations are the per-PVC rsync operations.
	// +optional
	RsyncOperations []*RsyncOperation `json:"rsyncOperations,omitempty"`
	// SkippedVolumes are the "namespace/name" of the PVCs that were skipped.
	// +optional
	SkippedVolumes []string `json:"skippedVolumes,omitempty"`
}

// DirectVolumeMigration copies PVC data between clusters (or within one) with rsync.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dvm
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=".status.phase"
// +kubebuilder:printcolumn:name="Itinerary",type=string,JSONPath=".status.itinerary"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type DirectVolumeMigration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DirectVolumeMigrationSpec   `json:"spec,omitempty"`
	Status DirectVolumeMigrationStatus `json:"status,omitempty"`
}

// DirectVolumeMigrationList is a list of DirectVolumeMigrations.
//
// +kubebuilder:object:root=true
type DirectVolumeMigrationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DirectVolumeMigration `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *DirectVolumeMigration) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *DirectVolumeMigration) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&DirectVolumeMigration{}, &DirectVolumeMigrationList{})
}
