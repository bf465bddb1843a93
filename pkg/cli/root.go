package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/scheme"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// ExitError ends the command with Code without printing anything more: the command already
// said why (a migration that failed, a cluster that is not Ready).
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit code %d", e.Code) }

// Options are what every verb shares: kubectl's connection flags (--kubeconfig, --context,
// --namespace, ...) for the host cluster, and the terminal it writes to.
type Options struct {
	genericiooptions.IOStreams
	Kube *genericclioptions.ConfigFlags

	client    client.WithWatch
	clientset kubernetes.Interface
	config    *rest.Config
}

// Namespace is where the migration objects are: --namespace if given, else MTC's
// openshift-migration (not the kubeconfig context's namespace, which is the user's app's).
func (o *Options) Namespace() string {
	if o.Kube.Namespace != nil && *o.Kube.Namespace != "" {
		return *o.Kube.Namespace
	}
	return settings.DefaultVeleroNamespace
}

// RESTConfig is the host cluster's connection.
func (o *Options) RESTConfig() (*rest.Config, error) {
	if o.config == nil {
		cfg, err := o.Kube.ToRESTConfig()
		if err != nil {
			return nil, fmt.Errorf("read kubeconfig: %w", err)
		}
		o.config = cfg
	}
	return o.config, nil
}

// Client is a client of the host cluster that knows Ferry's, Velero's and core types.
func (o *Options) Client() (client.WithWatch, error) {
	if o.client == nil {
		cfg, err := o.RESTConfig()
		if err != nil {
			return nil, err
		}
		c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme.New()})
		if err != nil {
			return nil, fmt.Errorf("connect to the host cluster: %w", err)
		}
		o.client = c
	}
	return o.client, nil
}

// Clientset is a typed client of the host cluster, for pod logs.
func (o *Options) Clientset() (kubernetes.Interface, error) {
	if o.clientset == nil {
		cfg, err := o.RESTConfig()
		if err != nil {
			return nil, err
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("connect to the host cluster: %w", err)
		}
		o.clientset = cs
	}
	return o.clientset, nil
}

// NewRootCommand is `ferry`, with every verb. Invoked as kubectl-ferry or oc-ferry it is a
// kubectl/oc plugin (`kubectl ferry ...`).
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{IOStreams: streams, Kube: genericclioptions.NewConfigFlags(true)}
	root := &cobra.Command{
		Use:   "ferry",
		Short: "Move applications between Kubernetes clusters with Ferry (MTC-compatible)",
		Long: `ferry drives Ferry, the operator that moves applications (their objects, volume data
and images) from one cluster to another. Every verb creates or reads the same MTC objects
(MigCluster, MigStorage, MigPlan, MigMigration) a GitOps repository or "kubectl apply" would,
in the namespace given by --namespace (default openshift-migration) of the host cluster
(the one --kubeconfig and --context point at, where the operator runs).

Installed as kubectl-ferry or oc-ferry on the PATH, it is also "kubectl ferry" and "oc ferry".`,
		Example: `  # Register a source cluster, a replication repository, and a plan
  ferry cluster add source --url https://api.source.example.com:6443 --token-file token
  ferry storage add s3 --bucket mtc --endpoint https://s3.example.com --access-key-file key --secret-key-file secret
  ferry plan create myapp --source source --storage s3 --namespace shop:shop-prod

  # Copy the volumes while the application runs, then move it, watching the progress
  ferry stage myapp
  ferry cutover myapp

  # Reach a source cluster behind a firewall from the destination (crane tunnel-api's flags)
  ferry tunnel-api --source-context onprem --destination-context cloud

  # Understand a failure, or collect everything for a bug report
  ferry describe migration myapp-cutover-1
  ferry must-gather`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	o.Kube.AddFlags(root.PersistentFlags())
	root.AddCommand(
		newClusterCommand(o),
		newStorageCommand(o),
		newPlanCommand(o),
		newMigrateCommand(o, stageVerb),
		newMigrateCommand(o, cutoverVerb),
		newMigrateCommand(o, rollbackVerb),
		newCancelCommand(o),
		newWatchCommand(o),
		newDescribeCommand(o),
		newMustGatherCommand(o),
		newTunnelCommand(o),
	)
	return root
}

// Main runs ferry with args and returns the process's exit code: 0, 1 for a failed
// migration or a resource that is not Ready, 2 for a usage or connection error, 130 when
// interrupted.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRootCommand(genericiooptions.IOStreams{In: stdin, Out: stdout, ErrOut: stderr})
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var exit ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Code
	case ctx.Err() != nil:
		_, _ = fmt.Fprintln(stderr, "Interrupted.")
		return 130
	default:
		_, _ = fmt.Fprintln(stderr, "Error:", err)
		return 2
	}
}

// printf writes to the command's output. A write error on a terminal or pipe leaves nothing
// to report it to, so it is dropped, as kubectl's printers do.
func (o *Options) printf(format string, args ...any) { _, _ = fmt.Fprintf(o.Out, format, args...) }

// println writes a line to the command's output (see printf).
func (o *Options) println(args ...any) { _, _ = fmt.Fprintln(o.Out, args...) }
