package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DirectVolumeMigrationProgress condition types (MTC names). All are Critical. DVMPs also
// use the shared InvalidSpec.
const (
	// InvalidClusterRef: spec.clusterRef is unset or the MigCluster is missing.
	InvalidClusterRef = "InvalidClusterRef"
	// ClusterNotReady: the referenced MigCluster is not Ready.
	ClusterNotReady = "ClusterNotReady"
	// InvalidPodRef: spec.podRef is unset.
	InvalidPodRef = "InvalidPodRef"
	// InvalidPod: the referenced pod does not exist.
	InvalidPod = "InvalidPod"
	// PodNotReady: the referenced pod is not ready.
	PodNotReady = "PodNotReady"
	// InvalidPodSelector: spec.podSelector is unset or invalid.
	InvalidPodSelector = "InvalidPodSelector"
)

// DVMPDoneLabel is put, with value "true", on terminated rsync pods whose status was recorded.
const DVMPDoneLabel = "migration.openshift.io/dvmp-done"

// DirectVolumeMigrationProgressSpec names the rsync pods whose progress is reported.
type DirectVolumeMigrationProgressSpec struct {
	// ClusterRef references the MigCluster the rsync pods run on.
	// +optional
	ClusterRef *corev1.ObjectReference `json:"clusterRef,omitempty"`
	// PodRef references a single rsync pod (legacy).
	// +optional
	PodRef *corev1.ObjectReference `json:"podRef,omitempty"`
	// PodNamespace is the namespace of the rsync pods.
	// +optional
	PodNamespace string `json:"podNamespace,omitempty"`
	// PodSelector selects the rsync pods of all attempts.
	// +optional
	PodSelector map[string]string `json:"podSelector,omitempty"`
}

// RsyncPodStatus is the state of one rsync attempt (pod).
type RsyncPodStatus struct {
	// PodName is the name of the rsync pod.
	// +optional
	PodName string `json:"podName,omitempty"`
	// PodPhase is the phase of the rsync pod.
	// +optional
	PodPhase corev1.PodPhase `json:"phase,omitempty"`
	// ExitCode is the exit code of the terminated rsync container.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`
	// ContainerElapsedTime is the run time of the rsync container.
	// +optional
	ContainerElapsedTime *metav1.Duration `json:"containerElapsedTime,omitempty"`
	// LogMessage holds the last lines of the rsync log.
	// +optional
	LogMessage string `json:"logMessage,omitempty"`
	// LastObservedProgressPercent is the last progress reported by rsync, for example "42%".
	// +optional
	LastObservedProgressPercent string `json:"lastObservedProgressPercent,omitempty"`
	// LastObservedTransferRate is the last transfer rate reported by rsync.
	// +optional
	LastObservedTransferRate string `json:"lastObservedTransferRate,omitempty"`
	// TransferredBytes is how many bytes rsync reported sent in this attempt so far (Ferry's
	// addition), for progress bars that show bytes next to the percent.
	// +optional
	TransferredBytes int64 `json:"transferredBytes,omitempty"`
	// CreationTimestamp is when the pod was created.
	// +optional
	CreationTimestamp *metav1.Time `json:"creationTimestamp,omitempty"`
}

// DirectVolumeMigrationProgressStatus is the progress of the rsync operation for one PVC.
type DirectVolumeMigrationProgressStatus struct {
	// Conditions are the MTC conditions of the DVMP.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// RsyncPodStatus is the state of the most recent attempt.
	RsyncPodStatus `json:",inline"`
	// RsyncPodStatuses is the history of terminated attempts.
	// +optional
	RsyncPodStatuses []RsyncPodStatus `json:"rsyncPodStatuses,omitempty"`
	// RsyncElapsedTime is the run time of all attempts.
	// +optional
	RsyncElapsedTime *metav1.Duration `json:"rsyncElapsedTime,omitempty"`
	// TotalProgressPercentage is the progress over all attempts, for example "42%".
	// +optional
	TotalProgressPercentage string `json:"totalProgressPercentage,omitempty"`
	// ObservedDigest is kept for compatibility with MTC tooling.
	// +optional
	ObservedDigest string `json:"observedDigest,omitempty"`
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// DirectVolumeMigrationProgress reports the progress of the rsync pods copying one PVC.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dvmp
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=".spec.clusterRef.name"
// +kubebuilder:printcolumn:name="Pod Name",type=string,JSONPath=".status.podName"
// +kubebuilder:printcolumn:name="Pod Namespace",type=string,JSONPath=".spec.podNamespace"
// +kubebuilder:printcolumn:name="Progress Percent",type=string,JSONPath=".status.totalProgressPercentage"
// +kubebuilder:printcolumn:name="Transfer Rate",type=string,JSONPath=".status.lastObservedTransferRate"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type DirectVolumeMigrationProgress struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DirectVolumeMigrationProgressSpec   `json:"spec,omitempty"`
	Status DirectVolumeMigrationProgressStatus `json:"status,omitempty"`
}

// DirectVolumeMigrationProgressList is a list of DirectVolumeMigrationProgresses.
//
// +kubebuilder:object:root=true
type DirectVolumeMigrationProgressList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DirectVolumeMigrationProgress `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *DirectVolumeMigrationProgress) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *DirectVolumeMigrationProgress) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&DirectVolumeMigrationProgress{}, &DirectVolumeMigrationProgressList{})
}
