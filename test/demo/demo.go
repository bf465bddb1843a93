package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/manager"
)

const (
	namespace    = "openshift-migration"
	readyTimeout = 2 * time.Minute
	pollInterval = time.Second
)

// Options configures a demo run.
type Options struct {
	// Manager is the path of the operator binary.
	Manager string
	// StateDir holds kubeconfigs and logs while the demo runs.
	StateDir string
	// Once returns as soon as the clusters are Ready instead of waiting for Ctrl-C.
	Once bool
	// Out receives the progress a user reads.
	Out io.Writer
}

// Run runs the demo until ctx ends (Ctrl-C), or until the clusters are Ready with Once.
func Run(ctx context.Context, opts Options) (err error) {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(opts.StateDir) }()

	say(opts.Out, "Starting the source and destination clusters")
	source, err := controlplane.Start("source")
	if err != nil {
		return err
	}
	defer stop(opts.Out, source)
	destination, err := controlplane.Start("destination")
	if err != nil {
		return err
	}
	defer stop(opts.Out, destination)
	kubeconfigs := map[string]string{}
	for _, cp := range []*controlplane.ControlPlane{source, destination} {
		path := filepath.Join(opts.StateDir, cp.Name+".kubeconfig")
		if err := cp.WriteKubeconfig(path); err != nil {
			return err
		}
		kubeconfigs[cp.Name] = path
	}

	say(opts.Out, "Starting the Ferry operator on the destination (the host cluster)")
	if err := destination.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return fmt.Errorf("create namespace %s: %w", namespace, err)
	}
	logPath := filepath.Join(opts.StateDir, "manager.log")
	operator, err := manager.Start(opts.Manager, kubeconfigs["destination"], namespace, logPath)
	if err != nil {
		return err
	}
	say(opts.Out, "  operator log: %s", logPath)
	defer func() {
		if err := operator.Stop(); err != nil {
			say(opts.Out, "Stopped the operator (%v)", err)
			return
		}
		say(opts.Out, "Stopped the operator")
	}()

	say(opts.Out, "Registering the clusters from config/samples")
	token, err := source.MintToken(ctx, namespace, "migration-controller", "cluster-admin")
	if err != nil {
		return err
	}
	clusters, err := applySamples(ctx, root, destination, source, token)
	if err != nil {
		return err
	}
	if err := waitReady(ctx, opts.Out, destination.Client, clusters); err != nil {
		return err
	}

	say(opts.Out, "Both clusters are Ready. Look around with kubectl:")
	say(opts.Out, "  kubectl --kubeconfig %s get migclusters -n %s", kubeconfigs["destination"], namespace)
	say(opts.Out, "  kubectl --kubeconfig %s get namespaces", kubeconfigs["source"])
	say(opts.Out, "The migration engine (MigStorage, MigPlan, MigMigration) is not built yet, so the demo stops here.")
	if opts.Once {
		return nil
	}
	say(opts.Out, "Press Ctrl-C to tear everything down.")
	<-ctx.Done()
	return nil
}

// applySamples applies the sample MigClusters and token Secret, filling in the source's real
// URL, CA and token where a user would.
func applySamples(ctx context.Context, root string, destination, source *controlplane.ControlPlane, token string) ([]client.ObjectKey, error) {
	var keys []client.ObjectKey
	for _, file := range []string{"migcluster_host.yaml", "migcluster_source.yaml"} {
		objs, err := readObjects(filepath.Join(root, "config", "samples", file))
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			switch o := obj.(type) {
			case *corev1.Secret:
				o.Data = map[string][]byte{migv1.SaTokenKey: []byte(token)}
				o.StringData = nil
			case *migv1.MigCluster:
				if !o.Spec.IsHostCluster {
					o.Spec.URL, o.Spec.CABundle = source.URL(), source.CABundle()
				}
				keys = append(keys, client.ObjectKeyFromObject(o))
			}
			if err := createNamespaceOf(ctx, destination, obj); err != nil {
				return nil, err
			}
			if err := destination.Client.Create(ctx, obj); err != nil {
				return nil, fmt.Errorf("create %s from %s: %w", obj.GetName(), file, err)
			}
		}
	}
	return keys, nil
}

func readObjects(path string) ([]client.Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open sample: %w", err)
	}
	defer func() { _ = f.Close() }()
	scheme, err := controlplane.Scheme()
	if err != nil {
		return nil, err
	}
	decoder := yaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []client.Object
	for {
		raw := map[string]any{}
		if err := decoder.Decode(&raw); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
		if len(raw) == 0 {
			continue
		}
		obj, err := toTyped(scheme, raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, obj)
	}
}

func createNamespaceOf(ctx context.Context, cp *controlplane.ControlPlane, obj client.Object) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: obj.GetNamespace()}}
	if err := cp.Client.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		return fmt.Errorf("create namespace %s: %w", ns.Name, err)
	}
	return nil
}

// waitReady prints each cluster's conditions as they change until all are Ready.
func waitReady(ctx context.Context, out io.Writer, c client.Client, keys []client.ObjectKey) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	last := map[client.ObjectKey]string{}
	for {
		ready := 0
		for _, key := range keys {
			cluster := &migv1.MigCluster{}
			if err := c.Get(ctx, key, cluster); err != nil {
				return fmt.Errorf("get MigCluster %s: %w", key, err)
			}
			summary := summarize(cluster.Status.Conditions)
			if summary != last[key] {
				say(out, "  MigCluster %s: %s", key.Name, summary)
				last[key] = summary
			}
			if conditions.IsTrue(cluster.Status.Conditions, migv1.Ready) {
				ready++
			}
		}
		if ready == len(keys) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clusters not Ready after %s (see the operator log): %w", readyTimeout, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

func summarize(list migv1.Conditions) string {
	if len(list) == 0 {
		return "waiting for the operator"
	}
	parts := make([]string, 0, len(list))
	for _, c := range list {
		parts = append(parts, fmt.Sprintf("%s=%s (%s)", c.Type, c.Status, c.Message))
	}
	return strings.Join(parts, "; ")
}

func stop(out io.Writer, cp *controlplane.ControlPlane) {
	if err := cp.Stop(); err != nil {
		say(out, "Stopping %s: %v", cp.Name, err)
		return
	}
	say(out, "Stopped the %s cluster", cp.Name)
}

func say(out io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(out, format+"\n", args...)
}
