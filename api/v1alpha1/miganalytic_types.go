package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MigAnalytic condition types (MTC names). MigAnalytics also use the shared InvalidPlanRef
// and Postponed.
const (
	// ExtendedPVAnalysisStarted: Advisory, durable; df/du analysis of the volumes started.
	ExtendedPVAnalysisStarted = "ExtendedPVAnalysisStarted"
	// ExtendedPVAnalysisFailed: the df/du analysis failed.
	ExtendedPVAnalysisFailed = "ExtendedPVAnalysisFailed"
)

// MigAnalytic condition reasons (MTC names).
const (
	// FailedRunningDf: running df in a node agent pod failed.
	FailedRunningDf = "FailedRunningDf"
	// FailedRunningDu: running du in a node agent pod failed.
	FailedRunningDu = "FailedRunningDu"
)

// MigAnalyticSpec says which analyses to run on a plan's namespaces.
type MigAnalyticSpec struct {
	// MigPlanRef references the MigPlan to analyze.
	MigPlanRef *corev1.ObjectReference `json:"migPlanRef"`
	// AnalyzePVCapacity counts PVs and their capacity.
	AnalyzePVCapacity bool `json:"analyzePVCapacity"`
	// AnalyzeImageCount counts images and their size.
	AnalyzeImageCount bool `json:"analyzeImageCount"`
	// AnalyzeK8SResources counts Kubernetes resources.
	AnalyzeK8SResources bool `json:"analyzeK8SResources"`
	// ListImages lists the images found.
	// +optional
	ListImages bool `json:"listImages,omitempty"`
	// ListImagesLimit caps the number of images listed.
	// +optional
	ListImagesLimit int `json:"listImagesLimit,omitempty"`
	// AnalyzeExtendedPVCapacity measures volume usage with df and du to propose capacities.
	// +optional
	AnalyzeExtendedPVCapacity bool `json:"analyzeExtendedPVCapacity,omitempty"`
	// Refresh asks for a new analysis; the controller sets it back to false.
	// +optional
	Refresh bool `json:"refresh,omitempty"`
}

// MigAnalyticPlan is the analysis of a plan. JSON names keep MTC's spelling, including the
// lower-case "k8s" of the excluded and incompatible totals.
type MigAnalyticPlan struct {
	// Plan is the name of the analyzed plan.
	// +optional
	Plan string `json:"plan"`
	// PercentComplete is the progress of the analysis.
	// +optional
	PercentComplete int `json:"percentComplete"`
	// K8SResourceTotal is the number of resources in the plan's namespaces.
	// +optional
	K8SResourceTotal int `json:"k8sResourceTotal"`
	// ExcludedK8SResourceTotal is the number of excluded resources.
	// +optional
	ExcludedK8SResourceTotal int `json:"excludedk8sResourceTotal"`
	// IncompatibleK8SResourceTotal is the number of resources the destination cannot serve.
	// +optional
	IncompatibleK8SResourceTotal int `json:"incompatiblek8sResourceTotal"`
	// PVCapacity is the total capacity of the PVs.
	// +optional
	PVCapacity resource.Quantity `json:"pvCapacity"`
	// PVCount is the number of PVs.
	// +optional
	PVCount int `json:"pvCount"`
	// ImageCount is the number of images.
	// +optional
	ImageCount int `json:"imageCount"`
	// ImageSizeTotal is the total size of the images.
	// +optional
	ImageSizeTotal resource.Quantity `json:"imageSizeTotal"`
	// Namespaces holds the analysis of each namespace.
	// +optional
	Namespaces []MigAnalyticNamespace `json:"namespaces,omitempty"`
}

// MigAnalyticNamespace is the analysis of one namespace.
type MigAnalyticNamespace struct {
	// Namespace is the name of the namespace.
	Namespace string `json:"namespace"`
	// K8SResourceTotal is the number of resources.
	// +optional
	K8SResourceTotal int `json:"k8sResourceTotal"`
	// ExcludedK8SResourceTotal is the number of excluded resources.
	// +optional
	ExcludedK8SResourceTotal int `json:"excludedK8SResourceTotal"`
	// IncompatibleK8SResourceTotal is the number of resources the destination cannot serve.
	// +optional
	IncompatibleK8SResourceTotal int `json:"incompatibleK8SResourceTotal"`
	// PVCapacity is the total capacity of the PVs.
	// +optional
	PVCapacity resource.Quantity `json:"pvCapacity"`
	// PVCount is the number of PVs.
	// +optional
	PVCount int `json:"pvCount"`
	// ImageCount is the number of images.
	// +optional
	ImageCount int `json:"imageCount"`
	// ImageSizeTotal is the total size of the images.
	// +optional
	ImageSizeTotal resource.Quantity `json:"imageSizeTotal"`
	// Images lists the images, up to listImagesLimit.
	// +optional
	Images []MigAnalyticNSImage `json:"images,omitempty"`
	// K8SResources counts resources by kind.
	// +optional
	K8SResources []MigAnalyticNSResource `json:"k8sResources,omitempty"`
	// PersistentVolumes holds the usage analysis of each PVC.
	// +optional
	PersistentVolumes []MigAnalyticPersistentVolumeClaim `json:"persistentVolumes,omitempty"`
	// ExcludedK8SResources counts excluded resources by kind.
	// +optional
	ExcludedK8SResources []MigAnalyticNSResource `json:"excludedK8SResources,omitempty"`
	// IncompatibleK8SResources counts resources the destination cannot serve, by kind.
	// +optional
	IncompatibleK8SResources []MigAnalyticNSResource `json:"incompatibleK8SResources,omitempty"`
}

// MigAnalyticNSResource is the number of resources of a kind.
type MigAnalyticNSResource struct {
	// Group of the resource.
	Group string `json:"group"`
	// Version of the resource.
	Version string `json:"version"`
	// Kind of the resource.
	Kind string `json:"kind"`
	// Count is the number of resources.
	Count int `json:"count"`
}

// MigAnalyticNSImage is an image found in a namespace.
type MigAnalyticNSImage struct {
	// Name of the image.
	Name string `json:"name"`
	// Reference is the pull reference of the image.
	Reference string `json:"reference"`
	// Size of the image.
	Size resource.Quantity `json:"size"`
}

// MigAnalyticPersistentVolumeClaim is the usage analysis of a PVC, used to propose a capacity.
type MigAnalyticPersistentVolumeClaim struct {
	// Name of the PVC.
	Name string `json:"name"`
	// RequestedCapacity is the capacity requested by the PVC.
	// +optional
	RequestedCapacity resource.Quantity `json:"requestedCapacity,omitempty"`
	// ActualCapacity is the capacity actually provisioned.
	// +optional
	ActualCapacity resource.Quantity `json:"actualCapacity,omitempty"`
	// UsagePercentage is the used share of the volume.
	// +optional
	UsagePercentage int `json:"usagePercentage,omitempty"`
	// ProposedCapacity is the capacity proposed for the destination PVC.
	// +optional
	ProposedCapacity resource.Quantity `json:"proposedCapacity,omitempty"`
	// Comment explains the proposed capacity.
	// +optional
	Comment string `json:"comment,omitempty"`
	// SparseFilesFound says the volume holds sparse files.
	// +optional
	SparseFilesFound bool `json:"sparseFilesFound,omitempty"`
}

// MigAnalyticStatus is the result of the analysis.
type MigAnalyticStatus struct {
	// Conditions are the MTC conditions of the analysis.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// ObservedGeneration is the spec generation the analysis describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Analytics is the analysis of the plan.
	// +optional
	Analytics MigAnalyticPlan `json:"analytics,omitempty"`
}

// MigAnalytic analyzes the namespaces of a plan: resources, images and volume usage.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=".spec.migPlanRef.name"
// +kubebuilder:printcolumn:name="Progress",type=string,JSONPath=".status.analytics.percentComplete"
// +kubebuilder:printcolumn:name="Resources",type=string,JSONPath=".status.analytics.k8sResourceTotal"
// +kubebuilder:printcolumn:name="Images",type=string,JSONPath=".status.analytics.imageCount"
// +kubebuilder:printcolumn:name="ImageSize",type=string,JSONPath=".status.analytics.imageSizeTotal"
// +kubebuilder:printcolumn:name="PVs",type=string,JSONPath=".status.analytics.pvCount"
// +kubebuilder:printcolumn:name="PVCapacity",type=string,JSONPath=".status.analytics.pvCapacity"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type MigAnalytic struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MigAnalyticSpec   `json:"spec,omitempty"`
	Status MigAnalyticStatus `json:"status,omitempty"`
}

// MigAnalyticList is a list of MigAnalytics.
//
// +kubebuilder:object:root=true
type MigAnalyticList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MigAnalytic `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *MigAnalytic) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *MigAnalytic) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&MigAnalytic{}, &MigAnalyticList{})
}
