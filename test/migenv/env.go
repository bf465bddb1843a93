package migenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/manager"
	"github.com/ferrymtc/ferry/test/node"
	"github.com/ferrymtc/ferry/test/s3"
	"github.com/ferrymtc/ferry/test/velero"
)

// Namespace is the operator's namespace and Velero's on both clusters.
const Namespace = operator.DefaultNamespace

// Bucket is the replication repository's bucket.
const Bucket = "ferry"

// Options configures Start.
type Options struct {
	// Dir holds kubeconfigs, the operator binary and its log; a temporary directory when empty.
	Dir string
	// Manager is the operator binary; built from ./cmd/manager when empty.
	Manager string
	// Entrypoints are the entrypoints of the images pods use without a command (see
	// node.Options.Entrypoints).
	Entrypoints map[string][]string
}

// Env is a running migration environment.
type Env struct {
	Source, Destination *controlplane.ControlPlane
	Store               *s3.Server
	// SourceKubeconfig and DestinationKubeconfig are admin kubeconfigs for kubectl.
	SourceKubeconfig, DestinationKubeconfig string
	// OperatorLog is the operator's log file; each start appends a numbered file.
	OperatorLog string

	dir      string
	manager  string
	starts   int
	operator *manager.Process
	veleros  []*velero.Server
	nodes    []*node.Node
}

// Start builds the environment. On error, what was started is stopped.
func Start(ctx context.Context, opts Options) (env *Env, err error) {
	env = &Env{dir: opts.Dir, manager: opts.Manager}
	defer func() {
		if err != nil {
			_ = env.Stop()
			env = nil
		}
	}()
	if env.dir == "" {
		if env.dir, err = os.MkdirTemp("", "ferry-migenv-"); err != nil {
			return env, fmt.Errorf("create environment directory: %w", err)
		}
	} else if err = os.MkdirAll(env.dir, 0o755); err != nil {
		return env, fmt.Errorf("create environment directory: %w", err)
	}
	// Absolute: Velero servers and the operator run in other working directories.
	if env.dir, err = filepath.Abs(env.dir); err != nil {
		return env, fmt.Errorf("environment directory: %w", err)
	}
	if env.manager == "" {
		if env.manager, err = buildManager(ctx, env.dir); err != nil {
			return env, err
		}
	}
	if env.Source, err = controlplane.Start("source", controlplane.WithControllerManager(), controlplane.WithScheduler()); err != nil {
		return env, err
	}
	if env.Destination, err = controlplane.Start("destination", controlplane.WithControllerManager(), controlplane.WithScheduler()); err != nil {
		return env, err
	}
	for _, cp := range []*controlplane.ControlPlane{env.Source, env.Destination} {
		n, nerr := node.Start(ctx, cp.Config, node.Options{Name: node.DefaultName, Entrypoints: opts.Entrypoints})
		if nerr != nil {
			return env, fmt.Errorf("start the node of %s: %w", cp.Name, nerr)
		}
		env.nodes = append(env.nodes, n)
	}
	if env.Store, err = s3.Start(s3.Options{}); err != nil {
		return env, err
	}
	if err = env.Store.CreateBucket(ctx, Bucket); err != nil {
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
		srv, verr := velero.Start(ctx, velero.Options{Kubeconfig: c.path, Namespace: Namespace, S3: env.Store, Bucket: Bucket})
		if verr != nil {
			return env, fmt.Errorf("start Velero for %s: %w", c.cp.Name, verr)
		}
		env.veleros = append(env.veleros, srv)
	}
	if err = env.StartOperator(); err != nil {
		return env, err
	}
	if err = fixtures.Register(ctx, env.Destination, env.Source, Namespace, env.Store, Bucket); err != nil {
		return env, err
	}
	return env, nil
}

// prepareCluster creates the operator namespace and the "standard" StorageClass.
func prepareCluster(ctx context.Context, c client.Client) error {
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

// buildManager compiles the operator into dir.
func buildManager(ctx context.Context, dir string) (string, error) {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "manager")
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/manager")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the operator: %w\n%s", err, msg)
	}
	return out, nil
}

// StartOperator starts the operator process on the destination cluster.
func (e *Env) StartOperator() error {
	if e.operator != nil {
		return errors.New("the operator is already running")
	}
	e.starts++
	e.OperatorLog = filepath.Join(e.dir, fmt.Sprintf("manager-%d.log", e.starts))
	p, err := manager.Start(e.manager, e.DestinationKubeconfig, Namespace, e.OperatorLog)
	if err != nil {
		return err
	}
	e.operator = p
	return nil
}

// KillOperator kills the operator with SIGKILL.
func (e *Env) KillOperator() {
	if e.operator != nil {
		e.operator.Kill()
		e.operator = nil
	}
}

// Operator is the running operator process, or nil.
func (e *Env) Operator() *manager.Process { return e.operator }

// SourceNode is the source cluster's process node.
func (e *Env) SourceNode() *node.Node { return e.nodes[0] }

// DestinationNode is the destination cluster's process node.
func (e *Env) DestinationNode() *node.Node { return e.nodes[1] }

// StopS3 stops the object store, making the replication repository unavailable.
func (e *Env) StopS3() error { return e.Store.Stop() }

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
	if e.operator != nil {
		errs = append(errs, e.operator.Stop())
		e.operator = nil
	}
	for _, v := range e.veleros {
		errs = append(errs, v.Stop())
	}
	e.veleros = nil
	for _, n := range e.nodes {
		errs = append(errs, n.Stop())
	}
	e.nodes = nil
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

// OperatorLogTail returns the last n bytes of the current operator log, for a failed test's
// report; "" when there is none.
func (e *Env) OperatorLogTail(n int) string {
	log, err := os.ReadFile(e.OperatorLog)
	if err != nil {
		return ""
	}
	return string(log[max(0, len(log)-n):])
}
