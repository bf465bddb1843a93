package migenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/install"
	"github.com/ferrymtc/ferry/test/manager"
	"github.com/ferrymtc/ferry/test/node"
	"github.com/ferrymtc/ferry/test/registry"
	"github.com/ferrymtc/ferry/test/s3"
	"github.com/ferrymtc/ferry/test/velero"
)

// Namespace is the operator's namespace and Velero's on both clusters.
const Namespace = operator.DefaultNamespace

// Bucket is the replication repository's bucket.
const Bucket = "ferry"

// Options configures Start.
type Options struct {
	// Dir holds kubeconfigs and the host-process operator's log; a temporary directory when
	// empty.
	Dir string
	// Manager is the operator binary the operator image holds, which must be static
	// (CGO_ENABLED=0, as `make build` builds it); hack/images builds ./cmd/manager when empty.
	Manager string
	// Entrypoints are the entrypoints of the images pods use without a command (see
	// node.Options.Entrypoints).
	Entrypoints map[string][]string
	// VeleroConcurrentBackups is the Velero servers' --concurrent-backups (Velero's default, 1,
	// when zero).
	VeleroConcurrentBackups int
	// HostProcess runs the operator as a process of this machine with an admin kubeconfig
	// instead of deploying it from config/default: for debugging only (a debugger attaches
	// to it, its log is a file). FERRY_OPERATOR=process in the environment sets it.
	HostProcess bool
}

// HostProcessEnv names the environment variable that makes Start run the operator as a host
// process (Options.HostProcess) when it is "process".
const HostProcessEnv = "FERRY_OPERATOR"

// Env is a running migration environment.
type Env struct {
	Source, Destination *controlplane.ControlPlane
	Store               *s3.Server
	// SourceRegistry and DestinationRegistry are the clusters' internal image registries
	// (test/registry), exposed at their Address (the MigClusters' exposedRegistryPath),
	// which the destination's pods reach on their loopback.
	SourceRegistry, DestinationRegistry *registry.Registry
	// SourceKubeconfig and DestinationKubeconfig are admin kubeconfigs for kubectl.
	SourceKubeconfig, DestinationKubeconfig string
	// Operator is the operator as installed from config/default, running as the
	// migration-controller pod of the destination's node; nil with Options.HostProcess.
	Operator *install.Operator

	dir     string
	manager string
	// operatorImage is the operator image's reference in both clusters' registries.
	operatorImage string
	starts        int
	// process and processLog are the operator of Options.HostProcess.
	process    *manager.Process
	processLog string
	veleros    []*velero.Server
	// veleroConcurrentBackups is Options.VeleroConcurrentBackups.
	veleroConcurrentBackups int
	nodes                   []*node.Node
}

// Start builds the environment. On error, what was started is stopped.
func Start(ctx context.Context, opts Options) (env *Env, err error) {
	env = &Env{dir: opts.Dir, manager: opts.Manager, veleroConcurrentBackups: opts.VeleroConcurrentBackups}
	opts.HostProcess = opts.HostProcess || os.Getenv(HostProcessEnv) == "process"
	defer func() {
		if err != nil {
			_ = env.Stop()
			env = nil
		}
	}()
	if err = env.makeDir(); err != nil {
		return env, err
	}
	image, err := install.OperatorImage(ctx, env.manager)
	if err != nil {
		return env, err
	}
	env.manager = image.Manager
	if env.Source, err = controlplane.Start("source", controlplane.WithControllerManager(), controlplane.WithScheduler(),
		controlplane.WithNamedCertificate(SourceAPIHost)); err != nil {
		return env, err
	}
	if env.Destination, err = controlplane.Start("destination", controlplane.WithControllerManager(), controlplane.WithScheduler()); err != nil {
		return env, err
	}
	if env.Store, err = s3.Start(s3.Options{}); err != nil {
		return env, err
	}
	if err = env.Store.CreateBucket(ctx, Bucket); err != nil {
		return env, err
	}
	if err = env.startRegistries(ctx); err != nil {
		return env, err
	}
	if env.operatorImage, err = install.PushOperatorImage(ctx, image, env.SourceRegistry, env.DestinationRegistry); err != nil {
		return env, err
	}
	if err = env.startNodes(ctx, opts); err != nil {
		return env, err
	}
	env.SourceKubeconfig = filepath.Join(env.dir, "source.kubeconfig")
	env.DestinationKubeconfig = filepath.Join(env.dir, "destination.kubeconfig")
	for _, c := range []struct {
		cp   *controlplane.ControlPlane
		path string
	}{{env.Source, env.SourceKubeconfig}, {env.Destination, env.DestinationKubeconfig}} {
		if err = c.cp.WriteKubeconfig(c.path); err != nil {
			return env, err
		}
		if err = prepareCluster(ctx, c.cp.Client); err != nil {
			return env, fmt.Errorf("prepare cluster %s: %w", c.cp.Name, err)
		}
		srv, verr := velero.Start(ctx, env.veleroOptions(c.path))
		if verr != nil {
			return env, fmt.Errorf("start Velero for %s: %w", c.cp.Name, verr)
		}
		env.veleros = append(env.veleros, srv)
	}
	for i, cp := range []*controlplane.ControlPlane{env.Source, env.Destination} {
		if err = velero.StartNodeAgent(ctx, cp.Client, Namespace, env.nodes[i].RootDir()); err != nil {
			return env, fmt.Errorf("start Velero's node-agent on %s: %w", cp.Name, err)
		}
	}
	if opts.HostProcess {
		err = env.StartOperator()
	} else {
		env.Operator, err = install.Deploy(ctx, env.Destination, env.DestinationNode(), env.operatorImage)
	}
	if err != nil {
		return env, err
	}
	if err = fixtures.Register(ctx, env.Destination, env.Source, Namespace, env.Store, Bucket,
		fixtures.WithRegistries(env.SourceRegistry, env.DestinationRegistry)); err != nil {
		return env, err
	}
	return env, nil
}

// makeDir creates the environment's directory, readable by non-root users (pods mount the
// kubeconfigs of some tests).
func (e *Env) makeDir() error {
	var err error
	if e.dir == "" {
		if e.dir, err = os.MkdirTemp("", "ferry-migenv-"); err != nil {
			return fmt.Errorf("create environment directory: %w", err)
		}
	} else if err = os.MkdirAll(e.dir, 0o755); err != nil {
		return fmt.Errorf("create environment directory: %w", err)
	}
	// Absolute: Velero servers and the operator run in other working directories.
	if e.dir, err = filepath.Abs(e.dir); err != nil {
		return fmt.Errorf("environment directory: %w", err)
	}
	if err := os.Chmod(e.dir, 0o755); err != nil {
		return fmt.Errorf("environment directory: %w", err)
	}
	return nil
}

// startNodes starts a process node per cluster, each pulling the images of its cluster's
// internal registry, where the operator image is (the destination runs the operator's pod,
// and both run the tunnel agents of ferry tunnel-api, which ship in it). The destination's
// node forwards the source API server's, the S3
// server's and both registries' ports from its pods' loopback, where MigCluster and
// MigStorage URLs point (127.0.0.1), as a cluster network would route them.
func (e *Env) startNodes(ctx context.Context, opts Options) error {
	sourceRegistry := "https://" + e.SourceRegistry.Address
	forwarded, err := install.Ports(e.Source.URL(), e.Store.Endpoint, sourceRegistry, "https://"+e.DestinationRegistry.Address)
	if err != nil {
		return err
	}
	// The source's pods reach the object store too: Velero's node-agent there writes the
	// stage backup's volume data into the replication repository.
	sourceForwarded, err := install.Ports(sourceRegistry, e.Store.Endpoint)
	if err != nil {
		return err
	}
	commands, err := velero.NodeCommands()
	if err != nil {
		return err
	}
	for _, c := range []struct {
		cp   *controlplane.ControlPlane
		opts node.Options
	}{
		{e.Source, node.Options{Name: node.DefaultName, Entrypoints: opts.Entrypoints, LoopbackPorts: sourceForwarded, Images: e.SourceRegistry, Commands: commands}},
		{e.Destination, node.Options{Name: node.DefaultName, Entrypoints: opts.Entrypoints, LoopbackPorts: forwarded, Images: e.DestinationRegistry, Commands: commands}},
	} {
		n, err := node.Start(ctx, c.cp.Config, c.opts)
		if err != nil {
			return fmt.Errorf("start the node of %s: %w", c.cp.Name, err)
		}
		e.nodes = append(e.nodes, n)
	}
	// Before the operator's pod starts: a container's /etc/hosts is written when it starts.
	e.DestinationNode().SetHost(StorageHost, "127.0.0.1")
	for _, n := range e.nodes {
		n.SetHost(SourceAPIHost, "127.0.0.1")
	}
	return nil
}

// prepareCluster creates the operator namespace and the "standard" StorageClass, and enforces
// OpenShift's per-namespace user and group ranges (enforceSCCRanges).
func prepareCluster(ctx context.Context, c client.Client) error {
	if err := enforceSCCRanges(ctx, c); err != nil {
		return err
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Provisioner: "kubernetes.io/host-path"},
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); client.IgnoreAlreadyExists(err) != nil {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// StartOperator makes sure the operator runs: it waits for the installed operator's container
// (the node restarts it after a kill), or starts the host process of Options.HostProcess.
func (e *Env) StartOperator() error {
	if e.Operator != nil {
		_, err := e.Operator.WaitRunning(context.Background())
		return err
	}
	if e.process != nil {
		return errors.New("the operator is already running")
	}
	e.starts++
	e.processLog = filepath.Join(e.dir, fmt.Sprintf("manager-%d.log", e.starts))
	p, err := manager.Start(e.manager, e.DestinationKubeconfig, Namespace, e.processLog)
	if err != nil {
		return err
	}
	e.process = p
	return nil
}

// KillOperator kills the operator with SIGKILL and returns once it is gone. The installed
// operator's container is then restarted by its node; StartOperator waits for that.
func (e *Env) KillOperator() error {
	if e.Operator != nil {
		return e.Operator.Kill(context.Background())
	}
	if e.process != nil {
		e.process.Kill()
		e.process = nil
	}
	return nil
}

// OperatorImage is the operator image's reference (by digest) in both clusters' registries:
// what config/console runs too.
func (e *Env) OperatorImage() string { return e.operatorImage }

// SourceNode is the source cluster's process node.
func (e *Env) SourceNode() *node.Node { return e.nodes[0] }

// DestinationNode is the destination cluster's process node.
func (e *Env) DestinationNode() *node.Node { return e.nodes[1] }

// StopS3 stops the object store, making the replication repository unavailable, until
// StartS3.
func (e *Env) StopS3() error { return e.Store.Interrupt() }

// StartS3 starts the stopped object store again, on the same address with the same objects.
func (e *Env) StartS3() error { return e.Store.Resume() }

// VeleroLogs returns the tail of each Velero server's log.
func (e *Env) VeleroLogs(n int) string {
	out := ""
	for _, v := range e.veleros {
		out += v.LogTail(n) + "\n"
	}
	return out
}

// Stop stops everything Start started, in reverse order.
func (e *Env) Stop() error {
	var errs []error
	for _, cp := range []*controlplane.ControlPlane{e.Source, e.Destination} {
		if cp == nil {
			continue
		}
		// Volumes kube-controller-manager provisioned on this machine.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for _, dir := range fixtures.ProvisionedDirs(ctx, cp.Client) {
			errs = append(errs, os.RemoveAll(dir))
		}
		cancel()
	}
	if e.process != nil {
		errs = append(errs, e.process.Stop())
		e.process = nil
	}
	for _, v := range e.veleros {
		errs = append(errs, v.Stop())
	}
	e.veleros = nil
	for _, n := range e.nodes {
		errs = append(errs, n.Stop())
	}
	e.nodes = nil
	errs = append(errs, e.stopRegistries())
	if e.Store != nil {
		errs = append(errs, e.Store.Stop())
	}
	for _, cp := range []*controlplane.ControlPlane{e.Destination, e.Source} {
		if cp != nil {
			errs = append(errs, cp.Stop())
		}
	}
	return errors.Join(errs...)
}

// OperatorLogTail returns the last n bytes of the operator's log (what `kubectl logs` shows,
// the previous run first when it was restarted), for a failed test's report.
func (e *Env) OperatorLogTail(n int) string {
	if e.Operator != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return e.Operator.LogTail(ctx, int64(n))
	}
	log, err := os.ReadFile(e.processLog)
	if err != nil {
		return ""
	}
	return string(log[max(0, len(log)-n):])
}
