package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DirectImageStreamMigration condition types (MTC names). All are Critical. DISMs also use
// the DIM validation conditions and the shared NamespaceNotFoundOnDestinationCluster,
// Running, Succeeded and Failed.
const (
	// InvalidImageStreamRef: NotSet; spec.imageStreamRef is empty.
	InvalidImageStreamRef = "InvalidImageStreamRef"
	// InvalidImageStream: the image stream does not exist on the source cluster.
	InvalidImageStream = "InvalidImageStream"
)

// DirectImageStreamMigrationSpec asks to copy the internal images of one image stream.
type DirectImageStreamMigrationSpec struct {
	// SrcMigClusterRef references the source MigCluster.
	// +optional
	SrcMigClusterRef *corev1.ObjectReference `json:"srcMigClusterRef,omitempty"`
	// DestMigClusterRef references the destination MigCluster.
	// +optional
	DestMigClusterRef *corev1.ObjectReference `json:"destMigClusterRef,omitempty"`
	// ImageStreamRef references the image stream on the source cluster.
	// +optional
	ImageStreamRef *corev1.ObjectReference `json:"imageStreamRef,omitempty"`
	// DestNamespace is the namespace on the destination; the source namespace when empty.
	// +optional
	DestNamespace string `json:"destNamespace,omitempty"`
}

// DirectImageStreamMigrationStatus is the progress of an image stream copy.
type DirectImageStreamMigrationStatus struct {
	// Conditions are the MTC conditions of the DISM.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// ObservedDigest is kept for compatibility with MTC tooling.
	// +optional
	ObservedDigest string `json:"observedDigest,omitempty"`
	// ObservedGeneration is the spec generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// StartTimestamp is when the DISM started running.
	// +optional
	StartTimestamp *metav1.Time `json:"startTimestamp,omitempty"`
	// Phase is the current phase of the itinerary.
	// +optional
	Phase string `json:"phase,omitempty"`
	// Itinerary is the name of the itinerary being run.
	// +optional
	Itinerary string `json:"itinerary,omitempty"`
	// Errors are the de-duplicated errors that failed the DISM.
	// +optional
	Errors []string `json:"errors,omitempty"`
	// Progress is how far the copy is (Ferry's addition).
	// +optional
	Progress *ImageCopyProgress `json:"progress,omitempty"`
}

// ImageCopyProgress is how far a copy of images is: images and bytes done of the total, the
// bytes the destination already held, and the rate.
type ImageCopyProgress struct {
	// TotalImages is how many images (manifests, by digest) the image streams reference.
	// +optional
	TotalImages int `json:"totalImages,omitempty"`
	// CopiedImages is how many of them the destination registry holds now.
	// +optional
	CopiedImages int `json:"copiedImages,omitempty"`
	// TotalBytes is the size of the blobs of the images copied so far and being copied.
	// +optional
	TotalBytes int64 `json:"totalBytes,omitempty"`
	// CopiedBytes is how many bytes were uploaded to the destination registry.
	// +optional
	CopiedBytes int64 `json:"copiedBytes,omitempty"`
	// SkippedBytes is how many bytes the destination already held (not sent again).
	// +optional
	SkippedBytes int64 `json:"skippedBytes,omitempty"`
	// MountedBlobs is how many blobs were mounted from another repository of the destination
	// registry instead of being uploaded.
	// +optional
	MountedBlobs int `json:"mountedBlobs,omitempty"`
	// BytesPerSecond is the upload rate since the copy started.
	// +optional
	BytesPerSecond int64 `json:"bytesPerSecond,omitempty"`
}

// DirectImageStreamMigration copies the internal images of one image stream from the source
// registry to the destination registry.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dism
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=".status.phase"
// +kubebuilder:printcolumn:name="Itinerary",type=string,JSONPath=".status.itinerary"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type DirectImageStreamMigration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DirectImageStreamMigrationSpec   `json:"spec,omitempty"`
	Status DirectImageStreamMigrationStatus `json:"status,omitempty"`
}

// DirectImageStreamMigrationList is a list of DirectImageStreamMigrations.
//
// +kubebuilder:object:root=true
type DirectImageStreamMigrationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DirectImageStreamMigration `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *DirectImageStreamMigration) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *DirectImageStreamMigration) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&DirectImageStreamMigration{}, &DirectImageStreamMigrationList{})
}
