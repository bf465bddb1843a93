package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MigStorage condition types (MTC names). All are Critical.
const (
	// InvalidBackupStorageProvider: backupStorageProvider is empty or not aws, azure or gcp.
	InvalidBackupStorageProvider = "InvalidBackupStorageProvider"
	// InvalidBackupStorageCredsSecretRef: the backup credentials Secret is unset or missing.
	InvalidBackupStorageCredsSecretRef = "InvalidBackupStorageCredsSecretRef"
	// InvalidBackupStorageSettings: provider-specific backup settings are invalid.
	InvalidBackupStorageSettings = "InvalidBackupStorageSettings"
	// BackupStorageProviderTestFailed: the live test of the bucket failed.
	BackupStorageProviderTestFailed = "BackupStorageProviderTestFailed"
	// InvalidVolumeSnapshotProvider: volumeSnapshotProvider is set but not supported.
	InvalidVolumeSnapshotProvider = "InvalidVolumeSnapshotProvider"
	// InvalidVolumeSnapshotCredsSecretRef: the snapshot credentials Secret is unset or missing.
	InvalidVolumeSnapshotCredsSecretRef = "InvalidVolumeSnapshotCredsSecretRef"
	// InvalidVolumeSnapshotSettings: provider-specific snapshot settings are invalid.
	InvalidVolumeSnapshotSettings = "InvalidVolumeSnapshotSettings"
	// VolumeSnapshotProviderTestFailed: the live test of the snapshot provider failed.
	VolumeSnapshotProviderTestFailed = "VolumeSnapshotProviderTestFailed"
	// BackupStorageProviderTestSkipped (Advisory, Ferry's): the storage is valid but its
	// provider has no live test in Ferry, so the bucket itself is unproven.
	BackupStorageProviderTestSkipped = "BackupStorageProviderTestSkipped"
)

// MigStorage condition reasons (MTC names), besides the shared NotSet, NotFound and NotSupported.
const (
	// TestFailed says a live provider test failed; the error is in the message.
	TestFailed = "TestFailed"
)

// Storage providers accepted in backupStorageProvider and volumeSnapshotProvider.
const (
	// ProviderAWS is AWS S3 and every S3-compatible object store.
	ProviderAWS = "aws"
	// ProviderAzure is Azure Blob storage and Azure managed disks.
	ProviderAzure = "azure"
	// ProviderGCP is Google Cloud Storage and persistent disks.
	ProviderGCP = "gcp"
)

// MigStorageSpec describes the replication repository (object storage) and the optional
// volume snapshot provider used by migrations.
type MigStorageSpec struct {
	// BackupStorageProvider is aws, azure or gcp; S3-compatible stores use aws.
	BackupStorageProvider string `json:"backupStorageProvider"`
	// BackupStorageConfig holds the bucket settings of the provider.
	BackupStorageConfig BackupStorageConfig `json:"backupStorageConfig"`
	// VolumeSnapshotProvider is the provider for volume snapshots; it defaults to the backup
	// storage provider.
	// +optional
	VolumeSnapshotProvider string `json:"volumeSnapshotProvider,omitempty"`
	// VolumeSnapshotConfig holds the settings of the snapshot provider.
	// +optional
	VolumeSnapshotConfig VolumeSnapshotConfig `json:"volumeSnapshotConfig,omitempty"`
	// Refresh asks for a full revalidation; the controller sets it back to false.
	// +optional
	Refresh bool `json:"refresh,omitempty"`
}

// BackupStorageConfig holds the settings of the object storage that keeps Velero backups.
// Fields are provider specific: aws*/s3* for aws, azure* for azure, gcp* for gcp.
type BackupStorageConfig struct {
	// CredsSecretRef names the Secret with the provider credentials.
	// +optional
	CredsSecretRef *corev1.ObjectReference `json:"credsSecretRef,omitempty"`
	// AwsBucketName is the S3 bucket.
	// +optional
	AwsBucketName string `json:"awsBucketName,omitempty"`
	// AwsRegion is the S3 region; us-east-1 when empty.
	// +optional
	AwsRegion string `json:"awsRegion,omitempty"`
	// AwsS3ForcePathStyle addresses buckets by path (https://host/bucket) instead of by
	// virtual host. MTC ignored it; Ferry honours it, and uses path style whenever awsS3Url is
	// set.
	// +optional
	AwsS3ForcePathStyle bool `json:"awsS3ForcePathStyle,omitempty"`
	// AwsS3URL is the endpoint of an S3-compatible store (http or https).
	// +optional
	AwsS3URL string `json:"awsS3Url,omitempty"`
	// AwsPublicURL is the endpoint used from outside the cluster, for example for downloads.
	// +optional
	AwsPublicURL string `json:"awsPublicUrl,omitempty"`
	// AwsKmsKeyID is the AWS KMS key used to encrypt backups.
	// +optional
	AwsKmsKeyID string `json:"awsKmsKeyId,omitempty"`
	// AwsSignatureVersion is the S3 signature version: empty, "1" or "4".
	// +optional
	AwsSignatureVersion string `json:"awsSignatureVersion,omitempty"`
	// S3CustomCABundle is a CA bundle to verify the S3 endpoint.
	// +optional
	S3CustomCABundle []byte `json:"s3CustomCABundle,omitempty"`
	// AzureStorageAccount is the Azure storage account.
	// +optional
	AzureStorageAccount string `json:"azureStorageAccount,omitempty"`
	// AzureStorageContainer is the Azure blob container.
	// +optional
	AzureStorageContainer string `json:"azureStorageContainer,omitempty"`
	// AzureResourceGroup is the Azure resource group of the storage account.
	// +optional
	AzureResourceGroup string `json:"azureResourceGroup,omitempty"`
	// GcpBucket is the Google Cloud Storage bucket.
	// +optional
	GcpBucket string `json:"gcpBucket,omitempty"`
	// Insecure skips TLS verification of the object store.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
}

// VolumeSnapshotConfig holds the settings of the volume snapshot provider.
type VolumeSnapshotConfig struct {
	// CredsSecretRef names the Secret with the provider credentials.
	// +optional
	CredsSecretRef *corev1.ObjectReference `json:"credsSecretRef,omitempty"`
	// SnapshotCreationTimeout is a Go duration string, for example "10m".
	// +optional
	SnapshotCreationTimeout string `json:"snapshotCreationTimeout,omitempty"`
	// AwsRegion is the region of the EBS snapshots.
	// +optional
	AwsRegion string `json:"awsRegion,omitempty"`
	// AzureAPITimeout is the timeout of Azure API calls, a Go duration string.
	// +optional
	AzureAPITimeout string `json:"azureApiTimeout,omitempty"`
	// AzureResourceGroup is the Azure resource group of the snapshots.
	// +optional
	AzureResourceGroup string `json:"azureResourceGroup,omitempty"`
}

// MigStorageStatus is what the controller observed about the storage.
type MigStorageStatus struct {
	// Conditions are the MTC conditions of the storage.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// ObservedDigest is kept for compatibility with MTC tooling.
	// +optional
	ObservedDigest string `json:"observedDigest,omitempty"`
	// ObservedGeneration is the spec generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// MigStorage is the replication repository and snapshot provider used by migration plans.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="BackupStorageProvider",type=string,JSONPath=".spec.backupStorageProvider"
// +kubebuilder:printcolumn:name="VolumeSnapshotProvider",type=string,JSONPath=".spec.volumeSnapshotProvider"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type MigStorage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MigStorageSpec   `json:"spec,omitempty"`
	Status MigStorageStatus `json:"status,omitempty"`
}

// MigStorageList is a list of MigStorages.
//
// +kubebuilder:object:root=true
type MigStorageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MigStorage `json:"items"`
}

// GetConditions returns the conditions of the status.
func (m *MigStorage) GetConditions() Conditions { return m.Status.Conditions }

// SetConditions replaces the conditions of the status.
func (m *MigStorage) SetConditions(c Conditions) { m.Status.Conditions = c }

func init() {
	register(&MigStorage{}, &MigStorageList{})
}
