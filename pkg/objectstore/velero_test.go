package objectstore

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestBackupStorageLocationSpec(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----")
	cred := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cloud-credentials"}, Key: "cloud"}
	cases := []struct {
		name    string
		storage migv1.MigStorageSpec
		want    velerov1.BackupStorageLocationSpec
	}{{
		name:    "aws defaults",
		storage: migv1.MigStorageSpec{BackupStorageProvider: "aws", BackupStorageConfig: migv1.BackupStorageConfig{AwsBucketName: "b"}},
		want: velerov1.BackupStorageLocationSpec{Provider: "aws", Credential: cred,
			StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "b", Prefix: "velero"}},
			Config:      map[string]string{"region": "us-east-1", "s3ForcePathStyle": "false", "insecureSkipTLSVerify": "false"}},
	}, {
		name: "aws S3-compatible with everything",
		storage: migv1.MigStorageSpec{BackupStorageProvider: "aws", BackupStorageConfig: migv1.BackupStorageConfig{
			AwsBucketName: "b", AwsRegion: "minio", AwsS3URL: "https://s3.local", AwsPublicURL: "https://s3.example.com",
			AwsKmsKeyID: "k", AwsSignatureVersion: "4", S3CustomCABundle: ca, Insecure: true}},
		want: velerov1.BackupStorageLocationSpec{Provider: "aws", Credential: cred,
			StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "b", Prefix: "velero", CACert: ca}},
			Config: map[string]string{"region": "minio", "s3ForcePathStyle": "true", "insecureSkipTLSVerify": "true",
				"s3Url": "https://s3.local", "publicUrl": "https://s3.example.com", "kmsKeyId": "k", "signatureVersion": "4"}},
	}, {
		name: "aws forced path style without URL",
		storage: migv1.MigStorageSpec{BackupStorageProvider: "aws", BackupStorageConfig: migv1.BackupStorageConfig{
			AwsBucketName: "b", AwsS3ForcePathStyle: true}},
		want: velerov1.BackupStorageLocationSpec{Provider: "aws", Credential: cred,
			StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "b", Prefix: "velero"}},
			Config:      map[string]string{"region": "us-east-1", "s3ForcePathStyle": "true", "insecureSkipTLSVerify": "false"}},
	}, {
		name: "azure",
		storage: migv1.MigStorageSpec{BackupStorageProvider: "azure", BackupStorageConfig: migv1.BackupStorageConfig{
			AzureResourceGroup: "rg", AzureStorageAccount: "sa", AzureStorageContainer: "c"}},
		want: velerov1.BackupStorageLocationSpec{Provider: "azure", Credential: cred,
			StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "c", Prefix: "velero"}},
			Config: map[string]string{"resourceGroup": "rg", "storageAccount": "sa", "subscriptionId": "",
				"storageAccountKeyEnvVar": "AZURE_STORAGE_ACCOUNT_ACCESS_KEY"}},
	}, {
		name:    "gcp with a KMS key does not panic",
		storage: migv1.MigStorageSpec{BackupStorageProvider: "gcp", BackupStorageConfig: migv1.BackupStorageConfig{GcpBucket: "g", AwsKmsKeyID: "projects/p/keys/k"}},
		want: velerov1.BackupStorageLocationSpec{Provider: "gcp", Credential: cred,
			StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "g", Prefix: "velero"}},
			Config:      map[string]string{"kmsKeyName": "projects/p/keys/k"}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BackupStorageLocationSpec(&tc.storage, cred)
			if err != nil {
				t.Fatalf("BackupStorageLocationSpec: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v %+v\nwant %+v %+v", got, got.ObjectStorage, tc.want, tc.want.ObjectStorage)
			}
		})
	}
	if _, err := BackupStorageLocationSpec(&migv1.MigStorageSpec{BackupStorageProvider: "ibm"}, nil); err == nil {
		t.Error("an unsupported provider must be an error")
	}
}

func TestVolumeSnapshotLocationSpec(t *testing.T) {
	cases := []struct {
		name    string
		storage migv1.MigStorageSpec
		want    velerov1.VolumeSnapshotLocationSpec
	}{{
		name:    "aws defaults to the backup provider and us-east-1",
		storage: migv1.MigStorageSpec{BackupStorageProvider: "aws"},
		want:    velerov1.VolumeSnapshotLocationSpec{Provider: "aws", Config: map[string]string{"region": "us-east-1"}},
	}, {
		name: "aws with region and timeout",
		storage: migv1.MigStorageSpec{BackupStorageProvider: "aws", VolumeSnapshotProvider: "aws",
			VolumeSnapshotConfig: migv1.VolumeSnapshotConfig{AwsRegion: "eu-west-1", SnapshotCreationTimeout: "20m"}},
		want: velerov1.VolumeSnapshotLocationSpec{Provider: "aws", Config: map[string]string{"region": "eu-west-1", "snapshotCreationTimeout": "20m"}},
	}, {
		name: "azure",
		storage: migv1.MigStorageSpec{BackupStorageProvider: "aws", VolumeSnapshotProvider: "azure",
			VolumeSnapshotConfig: migv1.VolumeSnapshotConfig{AzureResourceGroup: "rg", AzureAPITimeout: "2m"}},
		want: velerov1.VolumeSnapshotLocationSpec{Provider: "azure", Config: map[string]string{"resourceGroup": "rg", "apiTimeout": "2m"}},
	}, {
		name: "gcp with a timeout does not panic",
		storage: migv1.MigStorageSpec{BackupStorageProvider: "gcp",
			VolumeSnapshotConfig: migv1.VolumeSnapshotConfig{SnapshotCreationTimeout: "1h"}},
		want: velerov1.VolumeSnapshotLocationSpec{Provider: "gcp", Config: map[string]string{"snapshotCreationTimeout": "1h"}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := VolumeSnapshotLocationSpec(&tc.storage, nil)
			if err != nil {
				t.Fatalf("VolumeSnapshotLocationSpec: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLocationObjectsKeepCallerMetadata(t *testing.T) {
	meta := metav1.ObjectMeta{Namespace: "openshift-migration", GenerateName: "storage-", Labels: map[string]string{"migplan": "uid"}}
	storage := &migv1.MigStorageSpec{BackupStorageProvider: "aws", BackupStorageConfig: migv1.BackupStorageConfig{AwsBucketName: "b"}}
	bsl, err := BackupStorageLocation(meta, storage, nil)
	if err != nil || !reflect.DeepEqual(bsl.ObjectMeta, meta) || bsl.Spec.Credential != nil {
		t.Fatalf("BackupStorageLocation = %+v, %v", bsl, err)
	}
	vsl, err := VolumeSnapshotLocation(meta, storage, nil)
	if err != nil || !reflect.DeepEqual(vsl.ObjectMeta, meta) {
		t.Fatalf("VolumeSnapshotLocation = %+v, %v", vsl, err)
	}
}

func TestCloudCredentials(t *testing.T) {
	cases := []struct {
		name     string
		provider string
		creds    map[string][]byte
		opts     CredentialOptions
		want     map[string]string
	}{{
		name: "aws INI", provider: "aws", creds: awsCreds,
		want: map[string]string{"cloud": "[default]\naws_access_key_id=AKIDEXAMPLE\naws_secret_access_key=wJalrXUtnFEMI\n"},
	}, {
		name: "aws with CA bundle", provider: "aws", creds: awsCreds, opts: CredentialOptions{CABundle: []byte("PEM")},
		want: map[string]string{"cloud": "[default]\naws_access_key_id=AKIDEXAMPLE\naws_secret_access_key=wJalrXUtnFEMI\n", "ca_bundle.pem": "PEM"},
	}, {
		name: "azure keeps the env-file", provider: "azure", creds: azureCreds,
		want: map[string]string{"cloud": string(azureCreds[AzureCredentialsKey])},
	}, {
		name: "azure overrides the resource group in place", provider: "azure", creds: azureCreds, opts: CredentialOptions{AzureResourceGroup: "cluster-rg"},
		want: map[string]string{"cloud": "AZURE_TENANT_ID=t\nAZURE_CLIENT_ID=c\nAZURE_CLIENT_SECRET=s\nAZURE_SUBSCRIPTION_ID=sub\nAZURE_RESOURCE_GROUP=cluster-rg\n"},
	}, {
		name: "azure adds the resource group", provider: "azure",
		creds: map[string][]byte{AzureCredentialsKey: []byte("AZURE_TENANT_ID=t\nAZURE_CLIENT_ID=c\nAZURE_CLIENT_SECRET=s\nAZURE_SUBSCRIPTION_ID=sub")},
		opts:  CredentialOptions{AzureResourceGroup: "cluster-rg"},
		want:  map[string]string{"cloud": "AZURE_TENANT_ID=t\nAZURE_CLIENT_ID=c\nAZURE_CLIENT_SECRET=s\nAZURE_SUBSCRIPTION_ID=sub\nAZURE_RESOURCE_GROUP=cluster-rg\n"},
	}, {
		name: "gcp JSON", provider: "gcp", creds: gcpCreds,
		want: map[string]string{"cloud": `{"type":"service_account"}`},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CloudCredentials(tc.provider, tc.creds, tc.opts)
			if err != nil {
				t.Fatalf("CloudCredentials: %v", err)
			}
			gotStrings := map[string]string{}
			for k, v := range got {
				gotStrings[k] = string(v)
			}
			if !reflect.DeepEqual(gotStrings, tc.want) {
				t.Errorf("got %q, want %q", gotStrings, tc.want)
			}
		})
	}
}

func TestCloudCredentialsRejectsIncompleteSecrets(t *testing.T) {
	for _, provider := range []string{"aws", "azure", "gcp", "ibm"} {
		_, err := CloudCredentials(provider, map[string][]byte{}, CredentialOptions{})
		if err == nil || !strings.Contains(err.Error(), "build cloud credentials") {
			t.Errorf("%s: err = %v, want a build error", provider, err)
		}
	}
	s, err := CloudCredentialsSecret(metav1.ObjectMeta{Name: CloudSecretName("gcp"), Namespace: "velero"}, "gcp", gcpCreds, CredentialOptions{})
	if err != nil || s.Name != "cloud-credentials-gcp" || s.Type != corev1.SecretTypeOpaque {
		t.Fatalf("CloudCredentialsSecret = %+v, %v", s, err)
	}
	if len(s.Data[CloudCredentialsKey]) == 0 || !bytes.Equal(s.Data[SnapshotCredentialsKey], s.Data[CloudCredentialsKey]) {
		t.Errorf("the snapshot location's key holds %q, want the storage location's credentials", s.Data[SnapshotCredentialsKey])
	}
}
