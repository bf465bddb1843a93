package objectstore

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// Keys of the cloud credentials Secret that Velero reads.
const (
	// CloudCredentialsKey holds the credentials file in the provider's format.
	CloudCredentialsKey = "cloud"
	// SnapshotCredentialsKey holds a copy of CloudCredentialsKey for the VolumeSnapshotLocation.
	// Velero writes a location's credentials to a file named after the Secret and the key,
	// truncating it each time a location is used (internal/credentials namespacedFileStore),
	// and a backup uses its storage and snapshot locations at once: with one key, a plugin
	// could read the file while the other location's use had just emptied it ("no EC2 IMDS
	// role found"). A key per location gives each its own file.
	SnapshotCredentialsKey = "cloud-snapshots"
	// CABundleKey holds the S3 endpoint's CA bundle, when one is set.
	CABundleKey = "ca_bundle.pem"
)

// CloudSecretName returns the name MTC gives the cloud credentials Secret of provider in the
// Velero namespace (the operator mounts these for Velero). Callers may choose other names.
func CloudSecretName(provider string) string {
	switch provider {
	case migv1.ProviderAzure:
		return "cloud-credentials-azure"
	case migv1.ProviderGCP:
		return "cloud-credentials-gcp"
	}
	return "cloud-credentials"
}

// CredentialOptions adjusts the cloud credentials to the cluster they are written to.
type CredentialOptions struct {
	// CABundle is the S3 endpoint's CA bundle (backupStorageConfig.s3CustomCABundle); aws only.
	CABundle []byte
	// AzureResourceGroup overrides AZURE_RESOURCE_GROUP (MigCluster spec.azureResourceGroup of
	// the cluster the Secret goes to); azure only.
	AzureResourceGroup string
}

// CloudCredentials returns the data of the cloud credentials Secret for provider, built from
// the data of the MigStorage's credentials Secret. The result holds secrets.
func CloudCredentials(provider string, creds map[string][]byte, opts CredentialOptions) (map[string][]byte, error) {
	switch provider {
	case migv1.ProviderAWS:
		c, err := AWSCredentialsFrom(creds)
		if err != nil {
			return nil, fmt.Errorf("build cloud credentials: %w", err)
		}
		data := map[string][]byte{CloudCredentialsKey: []byte(fmt.Sprintf(
			"[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n", c.AccessKeyID, c.SecretAccessKey))}
		if len(opts.CABundle) > 0 {
			data[CABundleKey] = opts.CABundle
		}
		return data, nil
	case migv1.ProviderAzure:
		if problems := azureCredentialProblems(creds); len(problems) > 0 {
			return nil, fmt.Errorf("build cloud credentials: %s", strings.Join(problems, "; "))
		}
		return map[string][]byte{CloudCredentialsKey: withEnvVar(creds[AzureCredentialsKey], AzureResourceGroup, opts.AzureResourceGroup)}, nil
	case migv1.ProviderGCP:
		if problems := gcpCredentialProblems(creds); len(problems) > 0 {
			return nil, fmt.Errorf("build cloud credentials: %s", strings.Join(problems, "; "))
		}
		return map[string][]byte{CloudCredentialsKey: bytes.Clone(creds[GCPCredentialsKey])}, nil
	}
	return nil, fmt.Errorf("build cloud credentials: %s", unsupported(provider))
}

// CloudCredentialsSecret returns the cloud credentials Secret for provider, the credentials
// under CloudCredentialsKey and SnapshotCredentialsKey; meta gives its name, namespace and
// labels.
func CloudCredentialsSecret(meta metav1.ObjectMeta, provider string, creds map[string][]byte, opts CredentialOptions) (*corev1.Secret, error) {
	data, err := CloudCredentials(provider, creds, opts)
	if err != nil {
		return nil, err
	}
	data[SnapshotCredentialsKey] = bytes.Clone(data[CloudCredentialsKey])
	return &corev1.Secret{ObjectMeta: meta, Type: corev1.SecretTypeOpaque, Data: data}, nil
}

// withEnvVar returns the env-file with name set to value: the line that sets it is replaced
// (or one is appended) and every other line is kept as written. An empty value changes nothing.
func withEnvVar(envFile []byte, name, value string) []byte {
	if value == "" {
		return bytes.Clone(envFile)
	}
	var out bytes.Buffer
	replaced := false
	sc := bufio.NewScanner(bytes.NewReader(envFile))
	for sc.Scan() {
		line := sc.Text()
		if n, _, ok := envLine(line); ok && n == name {
			if replaced {
				continue
			}
			line, replaced = name+"="+value, true
		}
		out.WriteString(line + "\n")
	}
	if !replaced {
		out.WriteString(name + "=" + value + "\n")
	}
	return out.Bytes()
}
