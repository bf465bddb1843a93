package objectstore

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// VeleroPrefix is the directory of the bucket that Velero's backups go to (MTC's choice).
const VeleroPrefix = "velero"

// Keys of Velero's BackupStorageLocation and VolumeSnapshotLocation config maps.
const (
	configRegion                  = "region"
	configS3ForcePathStyle        = "s3ForcePathStyle"
	configS3URL                   = "s3Url"
	configPublicURL               = "publicUrl"
	configKMSKeyID                = "kmsKeyId"
	configSignatureVersion        = "signatureVersion"
	configInsecureSkipTLSVerify   = "insecureSkipTLSVerify"
	configSnapshotCreationTimeout = "snapshotCreationTimeout"
	configResourceGroup           = "resourceGroup"
	configStorageAccount          = "storageAccount"
	configSubscriptionID          = "subscriptionId"
	configStorageAccountKeyEnvVar = "storageAccountKeyEnvVar"
	configAPITimeout              = "apiTimeout"
	// configGCPKMSKeyName is the key Velero's GCP plugin reads. MTC wrote "kmsKeyId", which
	// that plugin ignores (and into a nil map, see BackupStorageLocationSpec).
	configGCPKMSKeyName = "kmsKeyName"
)

// AzureStorageAccountKeyEnvVar is the variable of the Azure credentials file that Velero reads
// the storage account key from.
const AzureStorageAccountKeyEnvVar = "AZURE_STORAGE_ACCOUNT_ACCESS_KEY"

// BackupStorageLocationSpec returns the spec of the Velero BackupStorageLocation for a
// MigStorage's backup storage. credential, when not nil, points at the Secret key built by
// CloudCredentials; nil leaves Velero to its default credentials file, as MTC does.
func BackupStorageLocationSpec(storage *migv1.MigStorageSpec, credential *corev1.SecretKeySelector) (velerov1.BackupStorageLocationSpec, error) {
	cfg := &storage.BackupStorageConfig
	spec := velerov1.BackupStorageLocationSpec{Provider: storage.BackupStorageProvider, Credential: credential}
	switch storage.BackupStorageProvider {
	case migv1.ProviderAWS:
		e := s3EndpointFor(cfg)
		spec.ObjectStorage = &velerov1.ObjectStorageLocation{
			Bucket: cfg.AwsBucketName,
			Prefix: VeleroPrefix,
			// The inline CA (deprecated in Velero 1.18 in favour of a Secret reference) is what
			// MTC sets, and every Velero version reads it.
			CACert: cfg.S3CustomCABundle,
		}
		spec.Config = map[string]string{
			configRegion:                e.region,
			configS3ForcePathStyle:      strconv.FormatBool(e.pathStyle),
			configInsecureSkipTLSVerify: strconv.FormatBool(cfg.Insecure),
		}
		setIfNotEmpty(spec.Config, configS3URL, cfg.AwsS3URL)
		setIfNotEmpty(spec.Config, configPublicURL, cfg.AwsPublicURL)
		setIfNotEmpty(spec.Config, configKMSKeyID, cfg.AwsKmsKeyID)
		setIfNotEmpty(spec.Config, configSignatureVersion, cfg.AwsSignatureVersion)
	case migv1.ProviderAzure:
		spec.ObjectStorage = &velerov1.ObjectStorageLocation{Bucket: cfg.AzureStorageContainer, Prefix: VeleroPrefix}
		spec.Config = map[string]string{
			configResourceGroup:           cfg.AzureResourceGroup,
			configStorageAccount:          cfg.AzureStorageAccount,
			configSubscriptionID:          "",
			configStorageAccountKeyEnvVar: AzureStorageAccountKeyEnvVar,
		}
	case migv1.ProviderGCP:
		spec.ObjectStorage = &velerov1.ObjectStorageLocation{Bucket: cfg.GcpBucket, Prefix: VeleroPrefix}
		// MTC wrote into a nil map here when a KMS key was set, and panicked.
		spec.Config = map[string]string{}
		setIfNotEmpty(spec.Config, configGCPKMSKeyName, cfg.AwsKmsKeyID)
	default:
		return velerov1.BackupStorageLocationSpec{}, fmt.Errorf("build BackupStorageLocation: %s", unsupported(storage.BackupStorageProvider))
	}
	return spec, nil
}

// SnapshotProvider returns the provider of a MigStorage's volume snapshots: volumeSnapshotProvider,
// or the backup storage provider when it is empty.
func SnapshotProvider(storage *migv1.MigStorageSpec) string {
	if storage.VolumeSnapshotProvider != "" {
		return storage.VolumeSnapshotProvider
	}
	return storage.BackupStorageProvider
}

// VolumeSnapshotLocationSpec returns the spec of the Velero VolumeSnapshotLocation for a
// MigStorage (provider from SnapshotProvider). credential is as for BackupStorageLocationSpec.
func VolumeSnapshotLocationSpec(storage *migv1.MigStorageSpec, credential *corev1.SecretKeySelector) (velerov1.VolumeSnapshotLocationSpec, error) {
	cfg := &storage.VolumeSnapshotConfig
	provider := SnapshotProvider(storage)
	spec := velerov1.VolumeSnapshotLocationSpec{Provider: provider, Credential: credential, Config: map[string]string{}}
	switch provider {
	case migv1.ProviderAWS:
		region := cfg.AwsRegion
		if region == "" {
			region = DefaultRegion
		}
		spec.Config[configRegion] = region
	case migv1.ProviderAzure:
		spec.Config[configResourceGroup] = cfg.AzureResourceGroup
		setIfNotEmpty(spec.Config, configAPITimeout, cfg.AzureAPITimeout)
	case migv1.ProviderGCP:
	default:
		return velerov1.VolumeSnapshotLocationSpec{}, fmt.Errorf("build VolumeSnapshotLocation: %s", unsupported(provider))
	}
	setIfNotEmpty(spec.Config, configSnapshotCreationTimeout, cfg.SnapshotCreationTimeout)
	return spec, nil
}

// BackupStorageLocation returns the Velero BackupStorageLocation for a MigStorage. meta gives
// its name (or generateName), namespace and labels.
func BackupStorageLocation(meta metav1.ObjectMeta, storage *migv1.MigStorageSpec, credential *corev1.SecretKeySelector) (*velerov1.BackupStorageLocation, error) {
	spec, err := BackupStorageLocationSpec(storage, credential)
	if err != nil {
		return nil, err
	}
	return &velerov1.BackupStorageLocation{ObjectMeta: meta, Spec: spec}, nil
}

// VolumeSnapshotLocation returns the Velero VolumeSnapshotLocation for a MigStorage. meta gives
// its name, namespace and labels.
func VolumeSnapshotLocation(meta metav1.ObjectMeta, storage *migv1.MigStorageSpec, credential *corev1.SecretKeySelector) (*velerov1.VolumeSnapshotLocation, error) {
	spec, err := VolumeSnapshotLocationSpec(storage, credential)
	if err != nil {
		return nil, err
	}
	return &velerov1.VolumeSnapshotLocation{ObjectMeta: meta, Spec: spec}, nil
}

func setIfNotEmpty(m map[string]string, key, value string) {
	if value != "" {
		m[key] = value
	}
}
