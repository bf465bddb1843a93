package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MigHook condition types (MTC names). All are Critical with reason NotSet.
const (
	// InvalidImage: spec.image is not a valid image reference.
	InvalidImage = "InvalidImage"
	// InvalidTargetCluster: spec.targetCluster is neither source nor destination. The MTC
	// condition type is "InvalidTarget".
	InvalidTargetCluster = "InvalidTarget"
	// InvalidPlaybookData: spec.playbook is not valid base64.
	InvalidPlaybookData = "InvalidPlaybookData"
	// InvalidCustomHook: a custom hook must not have a playbook.
	InvalidCustomHook = "InvalidCustomHook"
	// InvalidAnsibleHook: an Ansible hook needs a playbook.
	InvalidAnsibleHook = "InvalidAnsibleHook"
	// InvalidActiveDeadline (Ferry's): a negative spec.activeDeadlineSeconds; reason InvalidReason.
	InvalidActiveDeadline = "InvalidActiveDeadline"
	// InvalidReason is the reason of InvalidActiveDeadline.
	InvalidReason = "Invalid"
)

// Hook target clusters, as used in MigHookSpec.TargetCluster.
const (
	// HookTargetSource runs the hook on the source cluster.
	HookTargetSource = "source"
	// HookTargetDestination runs the hook on the destination cluster.
	HookTargetDestination = "destination"
)

// DefaultHookActiveDeadlineSeconds is the hook Job deadline used when
// activeDeadlineSeconds is 0.
const DefaultHookActiveDeadlineSeconds int64 = 1800

// MigHookSpec describes a hook: a container image, or an Ansible playbook run by the hook
// runner image, executed as a Job on one of the clusters.
type MigHookSpec struct {
	// Custom runs image as is; when false, image runs playbook with Ansible.
	Custom bool `json:"custom"`
	// Image is the container image of the hook Job.
	Image string `json:"image"`
	// Playbook is a base64-encoded Ansible playbook (non-custom hooks only).
	// +optional
	Playbook string `json:"playbook,omitempty"`
	// TargetCluster is the cluster the hook runs on: source or destination.
	// +kubebuilder:validation:Enum=source;destination
	TargetCluster string `json:"targetCluster"`
	// ActiveDeadlineSeconds bounds the run time of the hook Job; 0 means 1800.
	// +optional
	ActiveDeadlineSeconds int64 `json:"activeDeadlineSeconds,omitempty"`
}

// MigHookStatus is what the controller observed about a hook.
type MigHookStatus struct {
	// Conditions are the MTC conditions of the hook.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// ObservedGeneration is the spec generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// MigHook is a hook that migration plans can run before or after backup and restore.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=".spec.image"
// +kubebuilder:printcolumn:name="TargetCluster",type=string,JSONPath=".spec.targetCluster"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type MigHook struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MigHookSpec   `json:"spec,omitempty"`
	Status MigHookStatus `json:"status,omitempty"`
}

// MigHookList is a list of MigHooks.
//
// +kubebuilder:object:root=true
type MigHookList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MigHook `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *MigHook) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *MigHook) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&MigHook{}, &MigHookList{})
}
