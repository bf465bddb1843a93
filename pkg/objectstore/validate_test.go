package objectstore

import (
	"strings"
	"testing"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

var (
	awsCreds   = map[string][]byte{AWSAccessKeyIDKey: []byte("AKIDEXAMPLE"), AWSSecretAccessKeyKey: []byte("wJalrXUtnFEMI")}
	azureCreds = map[string][]byte{AzureCredentialsKey: []byte(
		"AZURE_TENANT_ID=t\nAZURE_CLIENT_ID=c\nAZURE_CLIENT_SECRET=s\nAZURE_SUBSCRIPTION_ID=sub\nAZURE_RESOURCE_GROUP=rg\n")}
	gcpCreds = map[string][]byte{GCPCredentialsKey: []byte(`{"type":"service_account"}`)}
)

// TestValidateBackupStorage checks each MTC rule: every case lists the fields that must be
// named in the problems, and a valid case must have none.
func TestValidateBackupStorage(t *testing.T) {
	cases := []struct {
		name     string
		provider string
		cfg      migv1.BackupStorageConfig
		creds    map[string][]byte
		want     []string
	}{
		{"aws valid", "aws", migv1.BackupStorageConfig{AwsBucketName: "b", AwsS3URL: "https://s3.example.com", AwsSignatureVersion: "4"}, awsCreds, nil},
		{"aws signature 1 and public url", "aws", migv1.BackupStorageConfig{AwsBucketName: "b", AwsPublicURL: "http://x:9000", AwsSignatureVersion: "1"}, awsCreds, nil},
		{"aws no bucket", "aws", migv1.BackupStorageConfig{}, awsCreds, []string{"awsBucketName"}},
		{"aws no keys", "aws", migv1.BackupStorageConfig{AwsBucketName: "b"}, map[string][]byte{}, []string{AWSAccessKeyIDKey, AWSSecretAccessKeyKey}},
		{"aws blank secret key", "aws", migv1.BackupStorageConfig{AwsBucketName: "b"},
			map[string][]byte{AWSAccessKeyIDKey: []byte("a"), AWSSecretAccessKeyKey: []byte(" \n")}, []string{AWSSecretAccessKeyKey}},
		{"aws signature 2", "aws", migv1.BackupStorageConfig{AwsBucketName: "b", AwsSignatureVersion: "2"}, awsCreds, []string{"awsSignatureVersion"}},
		{"aws url without scheme", "aws", migv1.BackupStorageConfig{AwsBucketName: "b", AwsS3URL: "s3.example.com"}, awsCreds, []string{"awsS3Url"}},
		{"aws ftp public url", "aws", migv1.BackupStorageConfig{AwsBucketName: "b", AwsPublicURL: "ftp://x"}, awsCreds, []string{"awsPublicUrl"}},
		{"azure valid", "azure", migv1.BackupStorageConfig{AzureResourceGroup: "rg", AzureStorageAccount: "sa", AzureStorageContainer: "c"}, azureCreds, nil},
		{"azure nothing", "azure", migv1.BackupStorageConfig{}, map[string][]byte{},
			[]string{AzureCredentialsKey, "azureResourceGroup", "azureStorageAccount", "azureStorageContainer"}},
		{"azure env file incomplete", "azure", migv1.BackupStorageConfig{AzureResourceGroup: "rg", AzureStorageAccount: "sa", AzureStorageContainer: "c"},
			map[string][]byte{AzureCredentialsKey: []byte("# comment\nexport AZURE_TENANT_ID=\"t\"\nAZURE_CLIENT_ID=c\n")},
			[]string{AzureClientSecret, AzureSubscriptionID}},
		{"gcp valid", "gcp", migv1.BackupStorageConfig{GcpBucket: "b"}, gcpCreds, nil},
		{"gcp no bucket no key", "gcp", migv1.BackupStorageConfig{}, nil, []string{GCPCredentialsKey, "gcpBucket"}},
		{"gcp key not json", "gcp", migv1.BackupStorageConfig{GcpBucket: "b"}, map[string][]byte{GCPCredentialsKey: []byte("not json")}, []string{"service-account JSON"}},
		{"unknown provider", "minio", migv1.BackupStorageConfig{}, awsCreds, []string{`"minio" is not supported`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ValidateBackupStorage(tc.provider, &tc.cfg, tc.creds)
			assertProblems(t, got, tc.want)
		})
	}
}

func TestValidateVolumeSnapshot(t *testing.T) {
	cases := []struct {
		name     string
		provider string
		cfg      migv1.VolumeSnapshotConfig
		creds    map[string][]byte
		want     []string
	}{
		{"aws valid", "aws", migv1.VolumeSnapshotConfig{SnapshotCreationTimeout: "10m", AwsRegion: "eu-west-1"}, awsCreds, nil},
		{"aws bad timeout", "aws", migv1.VolumeSnapshotConfig{SnapshotCreationTimeout: "ten minutes"}, awsCreds, []string{"snapshotCreationTimeout"}},
		{"aws no keys", "aws", migv1.VolumeSnapshotConfig{}, nil, []string{AWSAccessKeyIDKey, AWSSecretAccessKeyKey}},
		{"azure valid without apiTimeout", "azure", migv1.VolumeSnapshotConfig{AzureResourceGroup: "rg"}, azureCreds, nil},
		{"azure no resource group, bad apiTimeout", "azure", migv1.VolumeSnapshotConfig{AzureAPITimeout: "soon"}, azureCreds,
			[]string{"azureResourceGroup", "azureApiTimeout"}},
		{"gcp valid", "gcp", migv1.VolumeSnapshotConfig{}, gcpCreds, nil},
		{"gcp no key", "gcp", migv1.VolumeSnapshotConfig{}, nil, []string{GCPCredentialsKey}},
		{"unknown provider", "ibm", migv1.VolumeSnapshotConfig{}, nil, []string{"not supported"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertProblems(t, ValidateVolumeSnapshot(tc.provider, &tc.cfg, tc.creds), tc.want)
		})
	}
}

// assertProblems checks that there is one problem per expected fragment, each naming it.
func assertProblems(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("problems = %q, want %d naming %q", got, len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("problem %d = %q, want it to name %q", i, got[i], w)
		}
	}
}

func TestAWSCredentialsFromTrimsWhitespace(t *testing.T) {
	c, err := AWSCredentialsFrom(map[string][]byte{AWSAccessKeyIDKey: []byte("AKID\n"), AWSSecretAccessKeyKey: []byte(" s3cr3t ")})
	if err != nil || c.AccessKeyID != "AKID" || c.SecretAccessKey != "s3cr3t" {
		t.Fatalf("AWSCredentialsFrom = %+v, %v", c, err)
	}
	if _, err := AWSCredentialsFrom(nil); err == nil {
		t.Fatal("AWSCredentialsFrom(nil) must fail")
	}
}

func TestURLProblemHidesPassword(t *testing.T) {
	got := urlProblems("awsS3Url", "ftp://user:hunter2@host")
	if len(got) != 1 || strings.Contains(got[0], "hunter2") {
		t.Fatalf("urlProblems = %q, want one problem without the password", got)
	}
}
