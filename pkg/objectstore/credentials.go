package objectstore

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"unicode"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// Keys of the credentials Secret a MigStorage references (MTC's names).
const (
	// AWSAccessKeyIDKey holds the S3 access key ID.
	AWSAccessKeyIDKey = "aws-access-key-id"
	// AWSSecretAccessKeyKey holds the S3 secret access key.
	AWSSecretAccessKeyKey = "aws-secret-access-key"
	// AzureCredentialsKey holds an env-file with the Azure service principal.
	AzureCredentialsKey = "azure-credentials"
	// GCPCredentialsKey holds a service-account JSON key.
	GCPCredentialsKey = "gcp-credentials"
)

// Variables of the Azure env-file.
const (
	AzureTenantID       = "AZURE_TENANT_ID"
	AzureClientID       = "AZURE_CLIENT_ID"
	AzureClientSecret   = "AZURE_CLIENT_SECRET"
	AzureSubscriptionID = "AZURE_SUBSCRIPTION_ID"
	AzureResourceGroup  = "AZURE_RESOURCE_GROUP"
	AzureCloudName      = "AZURE_CLOUD_NAME"
)

// azureRequiredVars must be present and non-empty in the Azure env-file.
var azureRequiredVars = []string{AzureTenantID, AzureClientID, AzureClientSecret, AzureSubscriptionID}

// providers are the providers a MigStorage may name, in the order MTC lists them.
var providers = []string{migv1.ProviderAWS, migv1.ProviderGCP, migv1.ProviderAzure}

// IsSupported reports whether provider is aws, gcp or azure.
func IsSupported(provider string) bool {
	switch provider {
	case migv1.ProviderAWS, migv1.ProviderGCP, migv1.ProviderAzure:
		return true
	}
	return false
}

// AWSCredentials are the S3 keys of a credentials Secret. They are secret: never log them.
type AWSCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// AWSCredentialsFrom reads the S3 keys from Secret data. Surrounding whitespace is dropped
// because keys never contain any and a trailing newline (from `echo ... | base64`) is a common
// mistake that would otherwise be reported as a wrong key.
func AWSCredentialsFrom(data map[string][]byte) (AWSCredentials, error) {
	c := AWSCredentials{
		AccessKeyID:     strings.TrimSpace(string(data[AWSAccessKeyIDKey])),
		SecretAccessKey: strings.TrimSpace(string(data[AWSSecretAccessKeyKey])),
	}
	if problems := awsCredentialProblems(data); len(problems) > 0 {
		return AWSCredentials{}, fmt.Errorf("read S3 credentials: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

func awsCredentialProblems(data map[string][]byte) []string {
	var problems []string
	for _, key := range []string{AWSAccessKeyIDKey, AWSSecretAccessKeyKey} {
		if strings.TrimSpace(string(data[key])) == "" {
			problems = append(problems, missingKey(key))
		}
	}
	return problems
}

func azureCredentialProblems(data map[string][]byte) []string {
	raw, found := data[AzureCredentialsKey]
	if !found || len(bytes.TrimSpace(raw)) == 0 {
		return []string{missingKey(AzureCredentialsKey)}
	}
	env := ParseEnvFile(raw)
	var problems []string
	for _, name := range azureRequiredVars {
		if env[name] == "" {
			problems = append(problems, fmt.Sprintf("the %s env-file of the credentials Secret must set %s", AzureCredentialsKey, name))
		}
	}
	return problems
}

func missingKey(key string) string {
	return fmt.Sprintf("the credentials Secret must have a non-empty %s key", key)
}

// ParseEnvFile reads KEY=VALUE lines as Velero's Azure plugin does: blank lines and # comments
// are skipped, an "export " prefix is allowed, and one pair of surrounding quotes is removed.
func ParseEnvFile(raw []byte) map[string]string {
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		name, value, ok := envLine(sc.Text())
		if ok {
			env[name] = value
		}
	}
	return env
}

func envLine(line string) (name, value string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", false
	}
	line = strings.TrimPrefix(line, "export ")
	name, value, ok = strings.Cut(line, "=")
	if !ok {
		return "", "", false
	}
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		// "=value" or "A B=c" name no variable; Velero's parser would reject the file.
		return "", "", false
	}
	value = strings.TrimSpace(value)
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1 : len(value)-1]
	}
	return name, value, true
}
