package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func newStorageCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "storage",
		Aliases: []string{"migstorage", "repository"},
		Short:   "Register replication repositories (MigStorage)",
	}
	cmd.AddCommand(newStorageAddCommand(o))
	return cmd
}

type storageAddOptions struct {
	bucket, endpoint, region, accessKeyFile, secretKeyFile, caFile, secretNamespace string
	wait                                                                            time.Duration
}

func newStorageAddCommand(o *Options) *cobra.Command {
	var a storageAddOptions
	cmd := &cobra.Command{
		Use:   "add NAME --bucket BUCKET --access-key-file FILE --secret-key-file FILE",
		Short: "Register an S3 replication repository: a credentials Secret and a MigStorage, then wait until it is Ready",
		Long: `Register an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, NooBaa, ...) as a replication
repository. Velero keeps the migrated objects there. This creates a Secret with the keys
(in openshift-config) and a MigStorage, then waits until the operator has tested the bucket
and reports it Ready; when it does not, the failing check is printed and ferry exits 1.`,
		Example: `  ferry storage add s3 --bucket mtc --endpoint https://minio.example.com:9000 --access-key-file key --secret-key-file secret`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			secret, storage, err := a.objects(args[0], o.Namespace())
			if err != nil {
				return err
			}
			if err := o.createOrUpdateSecret(cmd, secret); err != nil {
				return err
			}
			c, err := o.Client()
			if err != nil {
				return err
			}
			if err := c.Create(cmd.Context(), storage); err != nil {
				return fmt.Errorf("create MigStorage %s: %w", storage.Name, err)
			}
			o.printf("MigStorage %s/%s created.\n", storage.Namespace, storage.Name)
			if a.wait <= 0 {
				return nil
			}
			return o.waitReady(cmd.Context(), storage, a.wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.bucket, "bucket", "", "S3 bucket name")
	f.StringVar(&a.endpoint, "endpoint", "", "S3 endpoint URL (empty: AWS)")
	f.StringVar(&a.region, "region", "us-east-1", "S3 region")
	f.StringVar(&a.accessKeyFile, "access-key-file", "", "file holding the access key ID")
	f.StringVar(&a.secretKeyFile, "secret-key-file", "", "file holding the secret access key")
	f.StringVar(&a.caFile, "ca-bundle", "", "PEM file of the CA that signs the endpoint's certificate")
	f.StringVar(&a.secretNamespace, "secret-namespace", secretNamespace, "namespace of the credentials Secret")
	f.DurationVar(&a.wait, "wait", 2*time.Minute, "how long to wait for Ready (0: do not wait)")
	return cmd
}

func (a storageAddOptions) objects(name, namespace string) (*corev1.Secret, *migv1.MigStorage, error) {
	if a.bucket == "" {
		return nil, nil, fmt.Errorf("--bucket is required")
	}
	key, err := readSecretFile("--access-key-file", a.accessKeyFile)
	if err != nil {
		return nil, nil, err
	}
	secretKey, err := readSecretFile("--secret-key-file", a.secretKeyFile)
	if err != nil {
		return nil, nil, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: a.secretNamespace, Name: name + "-credentials"},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"aws-access-key-id": []byte(key), "aws-secret-access-key": []byte(secretKey)},
	}
	cfg := migv1.BackupStorageConfig{
		AwsBucketName: a.bucket, AwsS3URL: a.endpoint, AwsRegion: a.region, AwsS3ForcePathStyle: a.endpoint != "",
		CredsSecretRef: &corev1.ObjectReference{Namespace: secret.Namespace, Name: secret.Name},
	}
	if a.caFile != "" {
		b, err := os.ReadFile(a.caFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--ca-bundle: %w", err)
		}
		cfg.S3CustomCABundle = b
	}
	storage := &migv1.MigStorage{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       migv1.MigStorageSpec{BackupStorageProvider: migv1.ProviderAWS, BackupStorageConfig: cfg},
	}
	return secret, storage, nil
}

// readSecretFile reads a credential from a file: credentials on the command line would show in
// the process list and the shell's history.
func readSecretFile(flag, path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("%s is required", flag)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s: %s is empty", flag, path)
	}
	return v, nil
}
