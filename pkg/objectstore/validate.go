package objectstore

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// ValidateBackupStorage returns what is wrong with the backup storage settings of a MigStorage
// for provider, and with the data of its credentials Secret, as sentences naming the fields.
// It returns nothing when all is well. An unsupported provider is one problem.
func ValidateBackupStorage(provider string, cfg *migv1.BackupStorageConfig, creds map[string][]byte) []string {
	switch provider {
	case migv1.ProviderAWS:
		return validateAWSBackup(cfg, creds)
	case migv1.ProviderAzure:
		return validateAzureBackup(cfg, creds)
	case migv1.ProviderGCP:
		return validateGCPBackup(cfg, creds)
	}
	return []string{unsupported(provider)}
}

// ValidateVolumeSnapshot returns what is wrong with the volume snapshot settings of a
// MigStorage for provider, and with the data of its credentials Secret.
func ValidateVolumeSnapshot(provider string, cfg *migv1.VolumeSnapshotConfig, creds map[string][]byte) []string {
	var problems []string
	switch provider {
	case migv1.ProviderAWS:
		problems = awsCredentialProblems(creds)
	case migv1.ProviderAzure:
		problems = azureCredentialProblems(creds)
		if cfg.AzureResourceGroup == "" {
			problems = append(problems, "volumeSnapshotConfig.azureResourceGroup is required")
		}
		// MTC requires azureApiTimeout; Velero's Azure plugin defaults it, so only a value
		// that does not parse is a problem here.
		problems = append(problems, durationProblems("volumeSnapshotConfig.azureApiTimeout", cfg.AzureAPITimeout)...)
	case migv1.ProviderGCP:
		problems = gcpCredentialProblems(creds)
	default:
		return []string{unsupported(provider)}
	}
	return append(problems, durationProblems("volumeSnapshotConfig.snapshotCreationTimeout", cfg.SnapshotCreationTimeout)...)
}

func validateAWSBackup(cfg *migv1.BackupStorageConfig, creds map[string][]byte) []string {
	problems := awsCredentialProblems(creds)
	if cfg.AwsBucketName == "" {
		problems = append(problems, "backupStorageConfig.awsBucketName is required")
	}
	switch cfg.AwsSignatureVersion {
	case "", "1", "4":
	default:
		problems = append(problems, fmt.Sprintf(`backupStorageConfig.awsSignatureVersion must be empty, "1" or "4", not %q`, cfg.AwsSignatureVersion))
	}
	problems = append(problems, urlProblems("backupStorageConfig.awsS3Url", cfg.AwsS3URL)...)
	return append(problems, urlProblems("backupStorageConfig.awsPublicUrl", cfg.AwsPublicURL)...)
}

func validateAzureBackup(cfg *migv1.BackupStorageConfig, creds map[string][]byte) []string {
	problems := azureCredentialProblems(creds)
	for _, f := range []struct{ name, value string }{
		{"backupStorageConfig.azureResourceGroup", cfg.AzureResourceGroup},
		{"backupStorageConfig.azureStorageAccount", cfg.AzureStorageAccount},
		{"backupStorageConfig.azureStorageContainer", cfg.AzureStorageContainer},
	} {
		if f.value == "" {
			problems = append(problems, f.name+" is required")
		}
	}
	return problems
}

func validateGCPBackup(cfg *migv1.BackupStorageConfig, creds map[string][]byte) []string {
	problems := gcpCredentialProblems(creds)
	if cfg.GcpBucket == "" {
		problems = append(problems, "backupStorageConfig.gcpBucket is required")
	}
	return problems
}

// gcpCredentialProblems checks the service-account key. MTC only checks that the key exists;
// a key that is not JSON would only fail later inside Velero, so it is reported here.
func gcpCredentialProblems(creds map[string][]byte) []string {
	raw := creds[GCPCredentialsKey]
	if strings.TrimSpace(string(raw)) == "" {
		return []string{missingKey(GCPCredentialsKey)}
	}
	var key map[string]any
	if err := json.Unmarshal(raw, &key); err != nil {
		return []string{fmt.Sprintf("the %s key of the credentials Secret must hold a service-account JSON key", GCPCredentialsKey)}
	}
	return nil
}

func urlProblems(field, raw string) []string {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return []string{fmt.Sprintf("%s is not a valid URL", field)}
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		// Redacted hides a password someone may have put into the URL.
		return []string{fmt.Sprintf("%s must be an http or https URL, not %q", field, u.Redacted())}
	}
	return nil
}

func durationProblems(field, raw string) []string {
	if raw == "" {
		return nil
	}
	if _, err := time.ParseDuration(raw); err != nil {
		return []string{fmt.Sprintf("%s must be a duration such as 10m or 1h30m, not %q", field, raw)}
	}
	return nil
}

func unsupported(provider string) string {
	return fmt.Sprintf("provider %q is not supported: use one of %s", provider, strings.Join(providers, ", "))
}
