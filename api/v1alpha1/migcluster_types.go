package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MigCluster condition types (MTC names).
const (
	InvalidURL                     = "InvalidURL"
	InvalidSaSecretRef             = "InvalidSaSecretRef"
	InvalidSaToken                 = "InvalidSaToken"
	TestConnectFailed              = "TestConnectFailed"
	SaTokenNotPrivileged           = "SaTokenNotPrivileged"
	InvalidRegistryRoute           = "InvalidRegistryRoute"
	ClusterOperatorVersionNotFound = "ClusterOperatorVersionNotFound"
	OperatorVersionMismatch        = "OperatorVersionMismatch"
)

// MigCluster condition types of Ferry (warnings; the message names each missing permission,
// as `kubectl auth can-i` would ask it). A cluster whose token can play neither side is not
// Ready (SaTokenNotPrivileged).
const (
	// NotPrivilegedAsSource: the token (the operator's own identity on the host) lacks
	// permissions of ClusterRole ferry-remote-source; plans may not use the cluster as source.
	NotPrivilegedAsSource = "NotPrivilegedAsSource"
	// NotPrivilegedAsDestination: likewise for ferry-remote-destination.
	NotPrivilegedAsDestination = "NotPrivilegedAsDestination"
	// RollbackNotPrivileged: the token may not delete every kind of object (ferry-rollback
	// narrowed): a rollback on this cluster deletes only the kinds it may.
	RollbackNotPrivileged = "RollbackNotPrivileged"
)

// SaTokenKey is the key of the service account token in a MigCluster's Secret.
const SaTokenKey = "saToken"

// MigClusterSpec describes how to reach a cluster.
type MigClusterSpec struct {
	// IsHostCluster is true for the cluster the operator runs on; it needs no URL or token.
	IsHostCluster bool `json:"isHostCluster"`
	// URL of the remote cluster's API server (http or https).
	// +optional
	URL string `json:"url,omitempty"`
	// ServiceAccountSecretRef names a Secret whose saToken key holds a bearer token.
	// +optional
	ServiceAccountSecretRef *corev1.ObjectReference `json:"serviceAccountSecretRef,omitempty"`
	// CABundle verifies the remote API server's certificate when insecure is false.
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`
	// AzureResourceGroup is the resource group of the cluster's disks (Azure only).
	// +optional
	AzureResourceGroup string `json:"azureResourceGroup,omitempty"`
	// Insecure skips TLS verification of the remote API server.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
	// RestartRestic overrides whether Restic pods are restarted after stage pods are created.
	// +optional
	RestartRestic *bool `json:"restartRestic,omitempty"`
	// Refresh asks for a full revalidation; the controller sets it back to false.
	// +optional
	Refresh bool `json:"refresh,omitempty"`
	// ExposedRegistryPath is the externally reachable route of the cluster's image registry,
	// used by direct image migration.
	// +optional
	ExposedRegistryPath string `json:"exposedRegistryPath,omitempty"`
}

// MigClusterStatus is what the controller observed about a cluster.
type MigClusterStatus struct {
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// ObservedDigest is kept for compatibility with MTC tooling.
	// +optional
	ObservedDigest string `json:"observedDigest,omitempty"`
	// ObservedGeneration is the spec generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// RegistryPath is the registry address used for direct image migration.
	// +optional
	RegistryPath string `json:"registryPath,omitempty"`
	// OperatorVersion is the migration operator version found on the cluster.
	// +optional
	OperatorVersion string `json:"operatorVersion,omitempty"`
}

// StorageClass describes a storage class of a cluster, as shown in MigPlan status.
type StorageClass struct {
	Name        string `json:"name,omitempty"`
	Provisioner string `json:"provisioner,omitempty"`
	// +optional
	Default bool `json:"default,omitempty"`
	// +optional
	VolumeAccessModes []VolumeModeAccessMode `json:"volumeAccessModes,omitempty"`
}

// VolumeModeAccessMode lists the access modes a storage class offers for a volume mode.
type VolumeModeAccessMode struct {
	// +optional
	VolumeMode corev1.PersistentVolumeMode `json:"volumeMode,omitempty"`
	// +optional
	AccessModes []corev1.PersistentVolumeAccessMode `json:"accessModes,omitempty"`
}

// MigCluster is a cluster that applications migrate from or to.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=".spec.url"
// +kubebuilder:printcolumn:name="Host",type=boolean,JSONPath=".spec.isHostCluster"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type MigCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MigClusterSpec   `json:"spec,omitempty"`
	Status MigClusterStatus `json:"status,omitempty"`
}

// MigClusterList is a list of MigClusters.
//
// +kubebuilder:object:root=true
type MigClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MigCluster `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *MigCluster) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *MigCluster) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&MigCluster{}, &MigClusterList{})
}
