package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DirectImageMigration condition types (MTC names). All are Critical. DIMs also use the
// shared InvalidSourceClusterRef, InvalidDestinationClusterRef, SourceClusterNotReady,
// DestinationClusterNotReady, NamespaceListEmpty, NamespaceNotFoundOnSourceCluster,
// Running, Succeeded and Failed.
const (
	// InvalidDestinationCluster: NotDistinct; source and destination are the same cluster.
	InvalidDestinationCluster = "InvalidDestinationCluster"
	// MissingSourceClusterRegistryPath: the source cluster has no registry path.
	MissingSourceClusterRegistryPath = "MissingSourceClusterRegistryPath"
	// MissingDestinationClusterRegistryPath: the destination cluster has no registry path.
	MissingDestinationClusterRegistryPath = "MissingDestinationClusterRegistryPath"
)

// DirectImageMigrationSpec asks to copy the image streams of namespaces registry to registry.
type DirectImageMigrationSpec struct {
	// SrcMigClusterRef references the source MigCluster.
	// +optional
	SrcMigClusterRef *corev1.ObjectReference `json:"srcMigClusterRef,omitempty"`
	// DestMigClusterRef references the destination MigCluster.
	// +optional
	DestMigClusterRef *corev1.ObjectReference `json:"destMigClusterRef,omitempty"`
	// Namespaces lists the namespaces whose image streams are copied, each "src" or "src:dest".
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`
	// LabelSelector restricts the copy to matching image streams.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
}

// ImageStreamListItem is a source image stream (the inlined reference) and the state of its
// copy.
type ImageStreamListItem struct {
	// ObjectReference is the source image stream.
	*corev1.ObjectReference `json:",inline"`
	// DestNamespace is the namespace of the image stream on the destination.
	// +optional
	DestNamespace string `json:"destNamespace,omitempty"`
	// NotFound says the image stream no longer exists on the source.
	// +optional
	NotFound bool `json:"notFound,omitempty"`
	// DirectMigration references the DirectImageStreamMigration copying the image stream.
	// +optional
	DirectMigration *corev1.ObjectReference `json:"directMigration,omitempty"`
	// Errors are the errors of the copy.
	// +optional
	Errors []string `json:"errors,omitempty"`
	// Progress is the DirectImageStreamMigration's progress (Ferry's addition).
	// +optional
	Progress *ImageCopyProgress `json:"progress,omitempty"`
}

// DirectImageMigrationStatus is the progress of a direct image migration.
type DirectImageMigrationStatus struct {
	// Conditions are the MTC conditions of the DIM.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// ObservedDigest is kept for compatibility with MTC tooling.
	// +optional
	ObservedDigest string `json:"observedDigest,omitempty"`
	// ObservedGeneration is the spec generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// StartTimestamp is when the DIM started running.
	// +optional
	StartTimestamp *metav1.Time `json:"startTimestamp,omitempty"`
	// Phase is the current phase of the itinerary.
	// +optional
	Phase string `json:"phase,omitempty"`
	// Itinerary is the name of the itinerary being run.
	// +optional
	Itinerary string `json:"itinerary,omitempty"`
	// Errors are the de-duplicated errors that failed the DIM.
	// +optional
	Errors []string `json:"errors,omitempty"`
	// NewISs are the image streams found but not copied yet.
	// +optional
	NewISs []*ImageStreamListItem `json:"newISs,omitempty"`
	// SuccessfulISs are the image streams copied successfully.
	// +optional
	SuccessfulISs []*ImageStreamListItem `json:"successfulISs,omitempty"`
	// DeletedISs are the image streams deleted from the source during the migration.
	// +optional
	DeletedISs []*ImageStreamListItem `json:"deletedISs,omitempty"`
	// FailedISs are the image streams whose copy failed.
	// +optional
	FailedISs []*ImageStreamListItem `json:"failedISs,omitempty"`
	// Progress sums the progress of the image streams (Ferry's addition).
	// +optional
	Progress *ImageCopyProgress `json:"progress,omitempty"`
}

// DirectImageMigration copies the internal images of namespaces from the source registry to
// the destination registry, one DirectImageStreamMigration per image stream.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dim
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=".status.phase"
// +kubebuilder:printcolumn:name="Itinerary",type=string,JSONPath=".status.itinerary"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type DirectImageMigration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DirectImageMigrationSpec   `json:"spec,omitempty"`
	Status DirectImageMigrationStatus `json:"status,omitempty"`
}

// DirectImageMigrationList is a list of DirectImageMigrations.
//
// +kubebuilder:object:root=true
type DirectImageMigrationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DirectImageMigration `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *DirectImageMigration) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *DirectImageMigration) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&DirectImageMigration{}, &DirectImageMigrationList{})
}
