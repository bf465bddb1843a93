// Command clusters measures how the operator's memory grows with the remote clusters it
// knows (make bench-clusters). It starts a host cluster and a number of real source API
// servers, runs the operator as its own process against the host, then registers remote
// MigClusters step by step (each with its own token Secret, as users register clusters),
// waits until each step's clusters are Ready, and prints the operator's resident memory
// after each step and its growth per cluster (a least-squares slope).
//
// Fifty real control planes (etcd and kube-apiserver, about 300 MiB each) do not fit two
// cores, so the MigClusters are spread over --apiservers real ones: the operator keeps one
// client (and, with --cache, one informer cache) per MigCluster, not per API server, so what
// it pays per cluster is measured all the same. It prints figures; it asserts only that every
// cluster becomes Ready.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/install"
	"github.com/ferrymtc/ferry/test/manager"
)

const namespace = "openshift-migration"

// settle is how long the operator runs after a step's clusters are Ready before its memory
// is read: long enough for the checks that follow Ready (and a garbage collection) to pass.
const settle = 10 * time.Second

type options struct {
	clusters, apiservers, step int
	cache                      bool
	manager, stateDir          string
	timeout                    time.Duration
}

func main() {
	o := options{}
	flag.IntVar(&o.clusters, "clusters", 50, "Remote MigClusters to register.")
	flag.IntVar(&o.apiservers, "apiservers", 10, "Real source API servers the MigClusters are spread over.")
	flag.IntVar(&o.step, "step", 10, "MigClusters registered per step.")
	flag.BoolVar(&o.cache, "cache", false, "Set mig_controller_enable_cache (an informer cache per remote cluster).")
	flag.StringVar(&o.manager, "manager", "bin/manager", "Path of the operator binary.")
	flag.StringVar(&o.stateDir, "state-dir", ".ferry/bench-clusters", "Where kubeconfigs and the operator log go.")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "Give up after this long.")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-clusters failed:", err)
		os.Exit(1)
	}
}

// source is a real API server and the token of config/rbac/remote/source's service account.
type source struct {
	cp    *controlplane.ControlPlane
	token string
}

func run(o options) error {
	// Ctrl-C or SIGTERM cancels the run, so that the deferred Stops end the control planes
	// and the S3 server (killed outright, they would outlive the benchmark).
	signals, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(signals, o.timeout)
	defer cancel()
	host, err := controlplane.Start("host")
	if err != nil {
		return err
	}
	defer func() { _ = host.Stop() }()
	fmt.Printf("Starting %d source API servers\n", o.apiservers)
	sources, err := startSources(ctx, o.apiservers)
	defer func() {
		for _, s := range sources {
			_ = s.cp.Stop()
		}
	}()
	if err != nil {
		return err
	}
	if err := prepareHost(ctx, host, o.cache); err != nil {
		return err
	}
	operator, err := manager.StartAgainst(host, o.manager, namespace, o.stateDir)
	if err != nil {
		return err
	}
	defer func() { _ = operator.Stop() }()
	return measure(ctx, host.Client, operator, sources, o)
}

func startSources(ctx context.Context, n int) ([]source, error) {
	var out []source
	for i := range n {
		cp, err := controlplane.Start(fmt.Sprintf("source-%02d", i))
		if err != nil {
			return out, err
		}
		token, err := install.RemoteToken(ctx, cp, install.Source)
		out = append(out, source{cp: cp, token: token})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// prepareHost creates the operator namespace, the namespace of the token Secrets, the host
// MigCluster and the MigrationController.
func prepareHost(ctx context.Context, host *controlplane.ControlPlane, cache bool) error {
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fixtures.SecretNamespace}},
		&migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "migration-controller"},
			Spec: migv1.MigrationControllerSpec{MigControllerEnableCache: cache}},
		&migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fixtures.HostCluster},
			Spec: migv1.MigClusterSpec{IsHostCluster: true}},
	}
	for _, obj := range objs {
		if err := host.Client.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// measure registers the clusters o.step at a time and prints the operator's memory after
// each step, then the machine-readable figures.
func measure(ctx context.Context, c client.Client, operator *manager.Process, sources []source, o options) error {
	time.Sleep(settle)
	base, err := operator.RSS()
	if err != nil {
		return err
	}
	fmt.Printf("%3d remote clusters: operator RSS %6.1f MiB\n", 0, manager.MiB(base))
	xs, ys := []float64{0}, []float64{manager.MiB(base)}
	for done := 0; done < o.clusters; {
		next := min(done+o.step, o.clusters)
		start := time.Now()
		var step []fixtures.Object
		for i := done; i < next; i++ {
			mc, err := register(ctx, c, i, sources[i%len(sources)])
			if err != nil {
				return err
			}
			step = append(step, mc)
		}
		if err := fixtures.WaitReady(ctx, c, 5*time.Minute, step...); err != nil {
			return err
		}
		ready := time.Since(start)
		time.Sleep(settle)
		rss, err := operator.RSS()
		if err != nil {
			return err
		}
		fmt.Printf("%3d remote clusters: operator RSS %6.1f MiB (%d registered and Ready in %s)\n",
			next, manager.MiB(rss), next-done, ready.Round(10*time.Millisecond))
		xs, ys = append(xs, float64(next)), append(ys, manager.MiB(rss))
		done = next
	}
	peak, err := operator.PeakRSS()
	if err != nil {
		return err
	}
	slope := leastSquaresSlope(xs, ys)
	fmt.Printf("clusters_registered %d\nclusters_real_apiservers %d\nclusters_cache %v\n", o.clusters, len(sources), o.cache)
	fmt.Printf("operator_rss_mib_base %.1f\noperator_rss_mib_at_max %.1f\noperator_peak_rss_mib %.1f\n", manager.MiB(base), ys[len(ys)-1], manager.MiB(peak))
	fmt.Printf("operator_rss_mib_per_cluster %.2f\n", slope)
	return nil
}

// register creates the token Secret and the MigCluster of remote cluster i on src.
func register(ctx context.Context, c client.Client, i int, src source) (*migv1.MigCluster, error) {
	name := fmt.Sprintf("remote-%02d", i)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: fixtures.SecretNamespace, Name: name + "-token"},
		Data: map[string][]byte{migv1.SaTokenKey: []byte(src.token)}}
	mc := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: migv1.MigClusterSpec{
		URL: src.cp.URL(), CABundle: src.cp.CABundle(),
		ServiceAccountSecretRef: &corev1.ObjectReference{Namespace: fixtures.SecretNamespace, Name: secret.Name}}}
	for _, obj := range []client.Object{secret, mc} {
		if err := c.Create(ctx, obj); err != nil {
			return nil, fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return mc, nil
}

// leastSquaresSlope is the slope of the least-squares line through the points.
func leastSquaresSlope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy = sx+xs[i], sy+ys[i]
		sxx, sxy = sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	if d := n*sxx - sx*sx; d != 0 {
		return (n*sxy - sx*sy) / d
	}
	return 0
}
