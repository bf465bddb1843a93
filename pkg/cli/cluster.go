package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
)

// secretNamespace is where the CLI puts token and credential Secrets: where MTC's console
// and documentation put them, and a namespace the operator reads Secrets from.
const secretNamespace = "openshift-config"

func newClusterCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "cluster",
		Aliases: []string{"clusters", "migcluster"},
		Short:   "Register clusters to migrate from or to (MigCluster)",
	}
	cmd.AddCommand(newClusterAddCommand(o))
	return cmd
}

type clusterAddOptions struct {
	url, token, tokenFile, caFile, registryPath, secretNamespace string
	insecure, host                                               bool
	wait                                                         time.Duration
}

func newClusterAddCommand(o *Options) *cobra.Command {
	var a clusterAddOptions
	cmd := &cobra.Command{
		Use:   "add NAME (--url URL --token-file FILE | --host)",
		Short: "Register a cluster: a token Secret and a MigCluster, then wait until it is Ready",
		Long: `Register a cluster with Ferry. For a remote cluster, this creates a Secret holding the
service account token (key saToken, in openshift-config) and a MigCluster that points at the
cluster's API server with it, then waits until the operator has connected and reports it
Ready. When it does not, the failing check (unreachable URL, TLS, token refused, missing
permissions) is printed and ferry exits 1.

The token needs only the permissions of Ferry's remote role (config/rbac/remote in Ferry's
repository); "kubectl create token" of a ServiceAccount bound to it makes one.`,
		Example: `  ferry cluster add source --url https://api.source.example.com:6443 --token-file token --ca-bundle ca.crt
  ferry cluster add host --host
  ferry cluster add source --url https://10.0.0.5:6443 --token "$(cat token)" --exposed-registry-path registry.source.example.com`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.addCluster(cmd, args[0], a) },
	}
	f := cmd.Flags()
	f.StringVar(&a.url, "url", "", "URL of the cluster's API server")
	f.StringVar(&a.token, "token", "", "service account token (prefer --token-file: a flag shows in the process list)")
	f.StringVar(&a.tokenFile, "token-file", "", "file holding the service account token")
	f.StringVar(&a.caFile, "ca-bundle", "", "PEM file of the CAs that sign the API server's (and the registry's) certificates")
	f.BoolVar(&a.insecure, "insecure", false, "skip TLS verification of the API server (not recommended)")
	f.StringVar(&a.registryPath, "exposed-registry-path", "", "host[:port] of the cluster's image registry route, for image migration")
	f.BoolVar(&a.host, "host", false, "register the cluster the operator runs on (no URL or token)")
	f.StringVar(&a.secretNamespace, "secret-namespace", secretNamespace, "namespace of the token Secret")
	f.DurationVar(&a.wait, "wait", 2*time.Minute, "how long to wait for Ready (0: do not wait)")
	return cmd
}

// clusterObjects are the Secret (nil for the host) and MigCluster that a cluster add creates.
func (a clusterAddOptions) objects(name, namespace string) (*corev1.Secret, *migv1.MigCluster, error) {
	cluster := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if a.host {
		if a.url != "" || a.token != "" || a.tokenFile != "" {
			return nil, nil, fmt.Errorf("--host takes no --url or token: the operator uses its own connection")
		}
		cluster.Spec = migv1.MigClusterSpec{IsHostCluster: true, ExposedRegistryPath: a.registryPath}
		return nil, cluster, a.readCA(cluster)
	}
	if err := clustercache.ValidateURL(a.url); err != nil {
		return nil, nil, fmt.Errorf("--url: %w", err)
	}
	token, err := a.readToken()
	if err != nil {
		return nil, nil, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: a.secretNamespace, Name: name + "-token"},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{migv1.SaTokenKey: []byte(token)},
	}
	cluster.Spec = migv1.MigClusterSpec{
		URL: a.url, Insecure: a.insecure, ExposedRegistryPath: a.registryPath,
		ServiceAccountSecretRef: &corev1.ObjectReference{Namespace: secret.Namespace, Name: secret.Name},
	}
	return secret, cluster, a.readCA(cluster)
}

func (a clusterAddOptions) readToken() (string, error) {
	switch {
	case a.token != "" && a.tokenFile != "":
		return "", fmt.Errorf("give --token or --token-file, not both")
	case a.tokenFile != "":
		b, err := os.ReadFile(a.tokenFile)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		a.token = string(b)
	}
	token := strings.TrimSpace(a.token)
	if token == "" {
		return "", fmt.Errorf("a remote cluster needs --token-file (or --token); for the operator's own cluster use --host")
	}
	return token, nil
}

func (a clusterAddOptions) readCA(cluster *migv1.MigCluster) error {
	if a.caFile == "" {
		return nil
	}
	b, err := os.ReadFile(a.caFile)
	if err != nil {
		return fmt.Errorf("--ca-bundle: %w", err)
	}
	if !strings.Contains(string(b), "-----BEGIN CERTIFICATE-----") {
		return fmt.Errorf("--ca-bundle %s holds no PEM certificate", a.caFile)
	}
	cluster.Spec.CABundle = b
	return nil
}

func (o *Options) addCluster(cmd *cobra.Command, name string, a clusterAddOptions) error {
	secret, cluster, err := a.objects(name, o.Namespace())
	if err != nil {
		return err
	}
	c, err := o.Client()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if secret != nil {
		if err := o.createOrUpdateSecret(cmd, secret); err != nil {
			return err
		}
	}
	if err := c.Create(ctx, cluster); err != nil {
		return fmt.Errorf("create MigCluster %s: %w", name, err)
	}
	o.printf("MigCluster %s/%s created.\n", cluster.Namespace, cluster.Name)
	if a.wait <= 0 {
		return nil
	}
	return o.waitReady(ctx, cluster, a.wait)
}

// createOrUpdateSecret creates secret, or replaces the data of the one of that name: adding a
// cluster again after its token was rotated is how a user gives the operator the new token.
func (o *Options) createOrUpdateSecret(cmd *cobra.Command, secret *corev1.Secret) error {
	c, err := o.Client()
	if err != nil {
		return err
	}
	existing := &corev1.Secret{}
	err = c.Get(cmd.Context(), client.ObjectKeyFromObject(secret), existing)
	switch {
	case err == nil:
		existing.Data = secret.Data
		if err := c.Update(cmd.Context(), existing); err != nil {
			return fmt.Errorf("update Secret %s/%s: %w", secret.Namespace, secret.Name, err)
		}
		o.printf("Secret %s/%s updated.\n", secret.Namespace, secret.Name)
		return nil
	case client.IgnoreNotFound(err) != nil:
		return fmt.Errorf("read Secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	if err := c.Create(cmd.Context(), secret); err != nil {
		return fmt.Errorf("create Secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	o.printf("Secret %s/%s created.\n", secret.Namespace, secret.Name)
	return nil
}
