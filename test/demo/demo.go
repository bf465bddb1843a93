package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/hack/repo"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/install"
	"github.com/ferrymtc/ferry/test/node"
	"github.com/ferrymtc/ferry/test/s3"
	"github.com/ferrymtc/ferry/test/velero"
)

const (
	namespace = "openshift-migration"
	bucket    = "ferry"
)

// Options configures a demo run.
type Options struct {
	// Manager is the path of the operator binary the operator image holds (static, as `make
	// build` builds it); hack/images builds ./cmd/manager when empty.
	Manager string
	// StateDir holds kubeconfigs and logs while the demo runs.
	StateDir string
	// Once returns as soon as the plan is Ready instead of waiting for Ctrl-C.
	Once bool
	// Out receives the progress a user reads.
	Out io.Writer
}

// env is what the demo started; stop tears it down in reverse order.
type env struct {
	out                 io.Writer
	source, destination *controlplane.ControlPlane
	store               *s3.Server
	veleros             []*velero.Server
	nodes               []*node.Node
	operator            *install.Operator
	kubeconfigs         map[string]string
	// closers stop what the demo started last (the console's forward), first.
	closers []func() error
	// operatorImage is the operator image's reference, preloaded into the destination's node.
	operatorImage string
}

// Run runs the demo until ctx ends (Ctrl-C), or until the cutover has completed with Once.
func Run(ctx context.Context, opts Options) error {
	root, err := repo.Root()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	// Absolute: Velero servers and the operator run in other working directories.
	if opts.StateDir, err = filepath.Abs(opts.StateDir); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(opts.StateDir) }()
	e := &env{out: opts.Out, kubeconfigs: map[string]string{}}
	defer e.stop()
	if err := e.start(opts); err != nil {
		return err
	}

	say(opts.Out, "Deploying the sample application on the source: namespaces demo-app and demo-db")
	if err := deploySampleApp(ctx, e.source, filepath.Join(opts.StateDir, "volumes")); err != nil {
		return err
	}
	say(opts.Out, "Applying config/samples: MigClusters, MigStorage and MigPlan")
	say(opts.Out, "  the source's token: a ServiceAccount bound only to config/rbac/remote/source's role")
	token, err := install.RemoteToken(ctx, e.source, install.Source)
	if err != nil {
		return err
	}
	fill := filler{source: e.source, token: token, store: e.store, bucket: bucket}
	samples := filepath.Join(root, "config", "samples")
	for _, file := range []string{"migrationcontroller.yaml", "migcluster_host.yaml", "migcluster_source.yaml", "migstorage.yaml", "migplan.yaml"} {
		if err := applySample(ctx, e.destination, filepath.Join(samples, file), fill.fill); err != nil {
			return err
		}
	}
	plan := &migv1.MigPlan{}
	if err := watchUntilReady(ctx, opts.Out, e.destination.Client, plan, fill.watched...); err != nil {
		return err
	}
	describePlan(opts.Out, plan)
	for _, file := range []string{"migmigration_stage.yaml", "migmigration_cutover.yaml"} {
		if _, err := migrate(ctx, opts.Out, e.destination, filepath.Join(samples, file)); err != nil {
			return err
		}
	}
	say(opts.Out, "The sample application now runs on the destination:")
	describeResult(ctx, opts.Out, e.source.Client, e.destination.Client)
	if err := showVolume(ctx, opts.Out, e.destination.Client); err != nil {
		return err
	}

	if err := e.openConsole(ctx); err != nil {
		return err
	}
	say(opts.Out, "Look around with kubectl:")
	say(opts.Out, "  kubectl --kubeconfig %s -n %s get migplans,migmigrations", e.kubeconfigs["destination"], namespace)
	say(opts.Out, "  kubectl --kubeconfig %s -n %s get migmigration demo-cutover -o yaml   # pipeline, conditions", e.kubeconfigs["destination"], namespace)
	say(opts.Out, "  kubectl --kubeconfig %s get all,pvc,configmaps -n demo-db-migrated", e.kubeconfigs["destination"])
	say(opts.Out, "  kubectl --kubeconfig %s -n %s get backups", e.kubeconfigs["source"], namespace)
	if opts.Once {
		return nil
	}
	say(opts.Out, "Press Ctrl-C to tear everything down.")
	<-ctx.Done()
	return nil
}

// openConsole installs the web console from config/console on the destination and prints its
// address and a token to log in with: a ServiceAccount bound to cluster-admin, as the
// cluster's administrator would be (the console acts as whoever logs in).
func (e *env) openConsole(ctx context.Context) error {
	say(e.out, "Installing the web console on the destination: kustomize build config/console | kubectl apply --server-side -f -")
	console, err := install.DeployConsole(ctx, e.destination, e.nodes[1], e.operatorImage)
	if err != nil {
		return err
	}
	// Forwarded until the demo ends, as kubectl port-forward would.
	e.closers = append(e.closers, console.Close)
	url := console.URL
	token, err := e.destination.MintToken(ctx, "demo-console", "admin", "cluster-admin")
	if err != nil {
		return err
	}
	say(e.out, "Web console: %s (a self-signed certificate: accept it once). Log in with this token of an admin:", url)
	say(e.out, "  %s", token)
	say(e.out, "  (any user's token works: kubectl create token NAME; the console shows and does what RBAC lets that user)")
	return nil
}

// start brings up the two clusters, the S3 server and the operator.
func (e *env) start(opts Options) error {
	say(e.out, "Starting the source and destination clusters, and an S3 server")
	var err error
	if e.source, err = controlplane.Start("source", controlplane.WithControllerManager(), controlplane.WithScheduler()); err != nil {
		return err
	}
	if e.destination, err = controlplane.Start("destination", controlplane.WithControllerManager(), controlplane.WithScheduler()); err != nil {
		return err
	}
	if e.store, err = s3.Start(s3.Options{}); err != nil {
		return err
	}
	if err := e.store.CreateBucket(context.Background(), bucket); err != nil {
		return err
	}
	say(e.out, "Starting a process node for each cluster: pods run as processes of this machine")
	if err := e.startNodes(opts.Manager); err != nil {
		return err
	}
	for _, cp := range []*controlplane.ControlPlane{e.source, e.destination} {
		path := filepath.Join(opts.StateDir, cp.Name+".kubeconfig")
		if err := cp.WriteKubeconfig(path); err != nil {
			return err
		}
		e.kubeconfigs[cp.Name] = path
		provisioner := "kubernetes.io/no-provisioner"
		if cp == e.destination {
			provisioner = "kubernetes.io/host-path"
		}
		if err := prepareCluster(context.Background(), cp, provisioner); err != nil {
			return err
		}
	}
	say(e.out, "Starting a Velero server for each cluster, on the shared bucket")
	for _, cp := range []*controlplane.ControlPlane{e.source, e.destination} {
		srv, err := velero.Start(context.Background(), velero.Options{Kubeconfig: e.kubeconfigs[cp.Name], Namespace: namespace, S3: e.store, Bucket: bucket})
		if err != nil {
			return fmt.Errorf("start Velero for %s: %w", cp.Name, err)
		}
		e.veleros = append(e.veleros, srv)
	}
	say(e.out, "Installing Ferry on the destination (the host cluster): kustomize build config/default | kubectl apply --server-side -f -")
	if e.operator, err = install.Deploy(context.Background(), e.destination, e.nodes[1], e.operatorImage); err != nil {
		return err
	}
	say(e.out, "  operator log: kubectl --kubeconfig %s -n %s logs deploy/%s", e.kubeconfigs["destination"], namespace, install.DeploymentName)
	return nil
}

// startNodes builds the operator image from manager (hack/images, as `make images`) and
// starts a node per cluster. The destination's has the image preloaded (the demo's clusters
// have no registry) and runs the operator's pod from it, and forwards the source API server's and the S3 server's ports from its pods' loopback,
// where the MigCluster and MigStorage URLs point.
func (e *env) startNodes(manager string) error {
	ctx := context.Background()
	say(e.out, "Building the operator image (hack/images) and loading it into the destination's node")
	image, err := install.OperatorImage(ctx, manager)
	if err != nil {
		return err
	}
	if e.operatorImage, err = install.PreloadReference(image); err != nil {
		return err
	}
	forwarded, err := install.Ports(e.source.URL(), e.store.Endpoint)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		cp   *controlplane.ControlPlane
		opts node.Options
	}{
		{e.source, node.Options{Name: node.DefaultName}},
		{e.destination, node.Options{Name: node.DefaultName, LoopbackPorts: forwarded,
			Images: install.Preloaded{e.operatorImage: image}}},
	} {
		n, err := node.Start(ctx, c.cp.Config, c.opts)
		if err != nil {
			return fmt.Errorf("start the node of %s: %w", c.cp.Name, err)
		}
		e.nodes = append(e.nodes, n)
	}
	return nil
}

func (e *env) stop() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		_ = e.closers[i]()
	}
	if e.destination != nil {
		// Volumes kube-controller-manager provisioned on this machine for the destination.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for _, dir := range fixtures.ProvisionedDirs(ctx, e.destination.Client) {
			_ = os.RemoveAll(dir)
		}
		cancel()
	}
	for _, v := range e.veleros {
		_ = v.Stop()
	}
	if len(e.veleros) > 0 {
		say(e.out, "Stopped the Velero servers")
	}
	for _, n := range e.nodes {
		if err := n.Stop(); err != nil {
			say(e.out, "Stopping node %s: %v", n.Name(), err)
		}
	}
	if e.store != nil {
		_ = e.store.Stop()
	}
	for _, cp := range []*controlplane.ControlPlane{e.destination, e.source} {
		if cp == nil {
			continue
		}
		if err := cp.Stop(); err != nil {
			say(e.out, "Stopping %s: %v", cp.Name, err)
			continue
		}
		say(e.out, "Stopped the %s cluster", cp.Name)
	}
}

// prepareCluster creates what an MTC installation has on every cluster: the
// openshift-migration namespace (Velero's, too) and a default storage class.
func prepareCluster(ctx context.Context, cp *controlplane.ControlPlane, provisioner string) error {
	if err := cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return fmt.Errorf("create namespace %s on %s: %w", namespace, cp.Name, err)
	}
	if err := cp.Client.Create(ctx, standardClass(provisioner)); err != nil {
		return fmt.Errorf("create StorageClass on %s: %w", cp.Name, err)
	}
	return nil
}

func say(out io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(out, format+"\n", args...)
}
