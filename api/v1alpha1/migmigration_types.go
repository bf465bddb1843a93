package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MigMigration condition types (MTC names). Validation conditions are Critical unless noted.
// Running, Succeeded, Failed, Canceling, Canceled, InvalidPlanRef and Postponed are also used
// by DVM, DIM, DISM and MigAnalytic.
const (
	// Validation.
	InvalidPlanRef         = "InvalidPlanRef"         // NotSet / NotFound.
	PlanNotReady           = "PlanNotReady"           // The plan is not Ready.
	PlanClosed             = "PlanClosed"             // The plan is closed; the migration never runs.
	InvalidSpec            = "InvalidSpec"            // NotSupported: conflicting flags or PVC renames.
	ConflictingPVCMappings = "ConflictingPVCMappings" // PvNameConflict: intra-cluster PVC mapping clash.
	HasFinalMigration      = "HasFinalMigration"      // The plan already has a final migration.
	Postponed              = "Postponed"              // Waiting for earlier migrations of the plan.
	RegistriesUnhealthy    = "RegistriesUnhealthy"    // Durable: a migration registry pod is unhealthy.

	// Execution.
	Running               = "Running"               // Advisory: reason is the phase, message "Step: n/total".
	Succeeded             = "Succeeded"             // Advisory, durable.
	SucceededWithWarnings = "SucceededWithWarnings" // Advisory, durable.
	Failed                = "Failed"                // Advisory, durable: reason is the failed phase.
	Canceling             = "Canceling"             // Advisory, durable: reason Cancel.
	Canceled              = "Canceled"              // Advisory, durable: reason Cancel.
	StageNoOp             = "StageNoOp"             // Warn, durable: stage without PVs or image streams.
	StagePodsCreated      = "StagePodsCreated"      // Advisory, durable.
	RegistriesHealthy     = "RegistriesHealthy"     // Required, durable.
	// DestinationApplicationsStarted: Advisory, durable (Ferry's); UnQuiesceDestApplications
	// ran: the destination runs the applications, so Cancel and Failed do not start the
	// source's again.
	DestinationApplicationsStarted = "DestinationApplicationsStarted"

	// Cleanup of stale Velero objects.
	StaleSrcVeleroCRsDeleted  = "StaleSrcVeleroCRsDeleted"  // Required.
	StaleDestVeleroCRsDeleted = "StaleDestVeleroCRsDeleted" // Required.
	StaleResticCRsDeleted     = "StaleResticCRsDeleted"     // Required.

	// Warnings.
	VeleroInitialBackupPartiallyFailed = "VeleroInitialBackupPartiallyFailed" // Warn.
	VeleroStageBackupPartiallyFailed   = "VeleroStageBackupPartiallyFailed"   // Warn.
	VeleroStageRestorePartiallyFailed  = "VeleroStageRestorePartiallyFailed"  // Warn.
	VeleroFinalRestorePartiallyFailed  = "VeleroFinalRestorePartiallyFailed"  // Warn.
	ResticErrors                       = "ResticErrors"                       // Warn.
	ResticVerifyErrors                 = "ResticVerifyErrors"                 // Warn.
	DirectImageMigrationFailed         = "DirectImageMigrationFailed"         // Warn.
	DirectVolumeMigrationFailed        = "DirectVolumeMigrationFailed"        // Warn.
	DirectVolumeMigrationBlocked       = "DirectVolumeMigrationBlocked"       // Warn.
	UnhealthyNamespaces                = "UnhealthyNamespaces"                // Warn: see status.namespaces.
	// FailedCreatingHookPods: Warn (Ferry's): the cluster refuses the pods of a hook Job
	// (quota, LimitRange, Pod Security admission); the message is the API's.
	FailedCreatingHookPods = "FailedCreatingHookPods"
)

// MigMigration warnings of Ferry's, where ClusterRole ferry-rollback was narrowed on the
// destination (the message names the kinds).
const (
	// RestoredObjectsNotLabelled: the operator may not list or label some kinds a restore
	// created, so a rollback will not find those objects.
	RestoredObjectsNotLabelled = "RestoredObjectsNotLabelled"
	// MigratedObjectsKept: a rollback may not delete some of what the plan restored.
	MigratedObjectsKept = "MigratedObjectsKept"
	// WorkloadsKeepOldPVCs: a storage conversion could not point some workloads (Jobs) at
	// the new PVCs; the message names them.
	WorkloadsKeepOldPVCs = "WorkloadsKeepOldPVCs"
)

// MigMigration condition reasons (MTC names), besides the shared NotSet, NotFound,
// NotSupported and NotDistinct, and PvNameConflict.
const (
	Cancel         = "Cancel"         // The migration was canceled.
	ErrorsDetected = "ErrorsDetected" // Errors were found during the migration.
)

// Labels the controller puts on a MigMigration.
const (
	// MigrationUIDLabel holds the migration's own UID.
	MigrationUIDLabel = "migration.openshift.io/migration-uid"
	// MigPlanNameLabel holds the name of the migration's plan.
	MigPlanNameLabel = "migration.openshift.io/migplan-name"
	// MigMigrationNameLabel holds a migration's name on objects created for it.
	MigMigrationNameLabel = "migration.openshift.io/migmigration-name"
	// DirectVolumeMigrationLabel holds, on a DirectVolumeMigration, the UID of the migration
	// that created it (MTC's label).
	DirectVolumeMigrationLabel = "migration-direct-volume"
	// DirectImageMigrationLabel holds, on a DirectImageMigration, the UID of the migration
	// that created it.
	DirectImageMigrationLabel = "migration-direct-image"
	// SourceForDirectVolumeMigrationLabel holds, on the PVCs a storage conversion copied from,
	// the plan's UID (MTC's label): the workloads mount the copies now.
	SourceForDirectVolumeMigrationLabel = "migration.openshift.io/source-for-directvolumemigration"
)

// MigMigrationFinalizer keeps a migration that has started and not ended until it has been
// canceled (source applications started again; its Velero objects, DirectVolumeMigrations and
// hook Jobs deleted) when the migration or its plan is deleted. A migration that never started
// or has ended does not keep it.
const MigMigrationFinalizer = "ferrymtc.io/migmigration-cleanup"

// MigMigrationSpec asks for one run of a plan: stage, final, state or rollback.
type MigMigrationSpec struct {
	// MigPlanRef references the MigPlan to run.
	// +optional
	MigPlanRef *corev1.ObjectReference `json:"migPlanRef,omitempty"`
	// Stage copies PV data only, leaving the applications running.
	Stage bool `json:"stage"`
	// MigrateState migrates PVs and the plan's included resources only.
	// +optional
	MigrateState bool `json:"migrateState,omitempty"`
	// QuiescePods scales the source applications down before the final copy.
	// +optional
	QuiescePods bool `json:"quiescePods,omitempty"`
	// KeepAnnotations skips the cleanup of migration annotations and labels.
	// +optional
	KeepAnnotations bool `json:"keepAnnotations,omitempty"`
	// Verify checks the health of the migrated pods after the migration.
	// +optional
	Verify bool `json:"verify,omitempty"`
	// Canceled stops the migration; it may be set at any time.
	// +optional
	Canceled bool `json:"canceled,omitempty"`
	// Rollback undoes a migration of the plan; it must be set at creation.
	// +optional
	Rollback bool `json:"rollback,omitempty"`
	// RunAsRoot runs the rsync pods as root; the cluster setting decides when unset.
	// +optional
	RunAsRoot *bool `json:"runAsRoot,omitempty"`
	// RunAsUser is the user ID of non-root rsync pods.
	// +optional
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// RunAsGroup is the group ID of non-root rsync pods.
	// +optional
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`
}

// Step is one entry of a migration's pipeline: a group of phases shown as one unit.
type Step struct {
	// Name of the step, for example Prepare, Backup or DirectVolume.
	Name string `json:"name"`
	// Phase is the current phase within the step.
	// +optional
	Phase string `json:"phase,omitempty"`
	// Message describes the step: its current phase, Completed, Failed, Skipped or Not started.
	// +optional
	Message string `json:"message,omitempty"`
	// Progress holds lines of phase-specific progress.
	// +optional
	Progress []string `json:"progress,omitempty"`
	// Failed says the step failed.
	// +optional
	Failed bool `json:"failed,omitempty"`
	// Skipped says the step did not run.
	// +optional
	Skipped bool `json:"skipped,omitempty"`
	// Started is when the step started.
	// +optional
	Started *metav1.Time `json:"started,omitempty"`
	// Completed is when the step completed.
	// +optional
	Completed *metav1.Time `json:"completed,omitempty"`
}

// MigMigrationStatus is the progress of a migration.
type MigMigrationStatus struct {
	// Conditions are the MTC conditions of the migration.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// Namespaces lists unhealthy workloads found on the destination by verification.
	// +optional
	Namespaces []UnhealthyNamespace `json:"namespaces,omitempty"`
	// ObservedDigest is kept for compatibility with MTC tooling.
	// +optional
	ObservedDigest string `json:"observedDigest,omitempty"`
	// ObservedGeneration is the spec generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// StartTimestamp is when the migration started running.
	// +optional
	StartTimestamp *metav1.Time `json:"startTimestamp,omitempty"`
	// Phase is the current phase of the itinerary.
	// +optional
	Phase string `json:"phase,omitempty"`
	// Itinerary is the name of the itinerary being run, for example Final or Stage.
	// +optional
	Itinerary string `json:"itinerary,omitempty"`
	// Errors are the de-duplicated errors that failed the migration.
	// +optional
	Errors []string `json:"errors,omitempty"`
	// Pipeline is the list of steps and their progress.
	// +optional
	Pipeline []*Step `json:"pipeline,omitempty"`
	// PhaseStartedAt is when the current phase began (Ferry); phase timeouts count from it.
	// +optional
	PhaseStartedAt *metav1.Time `json:"phaseStartedAt,omitempty"`
	// ProgressWatch is what the current phase waits for and since when what it observed has
	// not changed (Ferry): the no-progress watchdog's memory, kept in the status so that a
	// restarted operator goes on counting.
	// +optional
	ProgressWatch *ProgressWatch `json:"progressWatch,omitempty"`
	// References name the objects the migration creates (Ferry), recorded before they are
	// created, so that an operator restarted at any moment finds them instead of creating
	// duplicates.
	// +optional
	References []MigrationReference `json:"references,omitempty"`
}

// ReferenceRoleWarmDirectVolumeMigration is the status.references role of the DVM of a warm
// sync pass (Ferry's); those references, in order, are the passes so far.
const ReferenceRoleWarmDirectVolumeMigration = "WarmDirectVolumeMigration"

// MigrationReference names an object a migration created on one of the clusters.
type MigrationReference struct {
	// Role says what the object is for, for example InitialBackup or FinalRestore.
	Role string `json:"role"`
	// Cluster is where the object lives: source, destination or host.
	Cluster string `json:"cluster"`
	// Kind of the object, for example Backup.
	Kind string `json:"kind"`
	// Namespace of the object.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
}

// MigMigration is one run of a MigPlan.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=".spec.migPlanRef.name"
// +kubebuilder:printcolumn:name="Stage",type=string,JSONPath=".spec.stage"
// +kubebuilder:printcolumn:name="Rollback",type=string,JSONPath=".spec.rollback"
// +kubebuilder:printcolumn:name="Itinerary",type=string,JSONPath=".status.itinerary"
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=".status.phase"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type MigMigration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MigMigrationSpec   `json:"spec,omitempty"`
	Status MigMigrationStatus `json:"status,omitempty"`
}

// MigMigrationList is a list of MigMigrations.
//
// +kubebuilder:object:root=true
type MigMigrationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MigMigration `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *MigMigration) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *MigMigration) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&MigMigration{}, &MigMigrationList{})
}
