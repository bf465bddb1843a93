// Command plan measures how long Ferry takes to make large MigPlans Ready and how much memory
// the operator needs for them (make bench-plan). It builds a source cluster with many
// namespaces, each with bound PVCs and a pod mounting them, registers it with the operator (run
// as its own process against a destination cluster) and times plans over every namespace,
// created at once, from creation to Ready. A MigPlan lists its PVs in its spec and one object
// holds at most 1.5 MiB (etcd's limit), about 4,000 PVs, so 10,000 PVCs take several plans (a
// single plan over them reports PvListTooLarge). It prints figures; it asserts only that the
// plans are correct.
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
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/manager"
	"github.com/ferrymtc/ferry/test/s3"
)

const namespace = "openshift-migration"

type options struct {
	namespaces, claimsPerNamespace int
	plans                          int
	manager, stateDir              string
	timeout                        time.Duration
}

func main() {
	o := options{}
	flag.IntVar(&o.namespaces, "namespaces", 5000, "Namespaces in the plan.")
	flag.IntVar(&o.claimsPerNamespace, "claims", 2, "Bound PVCs per namespace.")
	flag.IntVar(&o.plans, "plans", 4, "MigPlans the namespaces are split over (one MigPlan object holds about 4,000 PVs at most).")
	flag.StringVar(&o.manager, "manager", "bin/manager", "Path of the operator binary.")
	flag.StringVar(&o.stateDir, "state-dir", ".ferry/bench-plan", "Where kubeconfigs and the operator log go.")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "Give up after this long.")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-plan failed:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	// Ctrl-C or SIGTERM cancels the run, so that the deferred Stops end the control planes
	// and the S3 server (killed outright, they would outlive the benchmark).
	signals, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(signals, o.timeout)
	defer cancel()
	source, err := controlplane.Start("source")
	if err != nil {
		return err
	}
	defer func() { _ = source.Stop() }()
	destination, err := controlplane.Start("destination")
	if err != nil {
		return err
	}
	defer func() { _ = destination.Stop() }()
	store, err := s3.Start(s3.Options{})
	if err != nil {
		return err
	}
	defer func() { _ = store.Stop() }()
	if err := store.CreateBucket(ctx, "ferry"); err != nil {
		return err
	}

	fmt.Printf("Building the source: %d namespaces, %d bound PVCs, %d pods\n", o.namespaces, o.namespaces*o.claimsPerNamespace, o.namespaces)
	start := time.Now()
	names, err := populate(ctx, source, o.namespaces, o.claimsPerNamespace)
	if err != nil {
		return err
	}
	fmt.Printf("  source ready in %s\n", time.Since(start).Round(time.Second))
	if err := prepareDestination(ctx, destination, o); err != nil {
		return err
	}

	operator, err := manager.StartAgainst(destination, o.manager, namespace, o.stateDir)
	if err != nil {
		return err
	}
	defer func() { _ = operator.Stop() }()
	if err := fixtures.Register(ctx, destination, source, namespace, store, "ferry"); err != nil {
		return err
	}
	return measurePlans(ctx, destination, operator, names, o.plans, o.namespaces*o.claimsPerNamespace)
}

// prepareDestination creates the operator namespace and raises MTC's default limits (10
// namespaces, 100 pods, 100 PVs) to the size of the plan, as a user would.
func prepareDestination(ctx context.Context, destination *controlplane.ControlPlane, o options) error {
	if err := destination.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return fmt.Errorf("create namespace: %w", err)
	}
	if err := destination.Client.Create(ctx, standardClass()); err != nil {
		return fmt.Errorf("create StorageClass: %w", err)
	}
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "migration-controller"},
		Spec: migv1.MigrationControllerSpec{
			MigNamespaceLimit: ptr.To(intstr.FromInt(o.namespaces)),
			MigPodLimit:       ptr.To(intstr.FromInt(o.namespaces)),
			MigPVLimit:        ptr.To(intstr.FromInt(o.namespaces * o.claimsPerNamespace)),
		}}
	if err := destination.Client.Create(ctx, mc); err != nil {
		return fmt.Errorf("create MigrationController: %w", err)
	}
	return nil
}

// measurePlans creates the plans, each over its share of the namespaces, at once, waits until
// every one is Ready and prints the figures.
func measurePlans(ctx context.Context, destination *controlplane.ControlPlane, operator *manager.Process, namespaces []string, plans, wantPVs int) error {
	var created []fixtures.Object
	rssBefore, err := operator.PeakRSS()
	if err != nil {
		return err
	}
	start := time.Now()
	for i, share := range split(namespaces, plans) {
		plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("bench-%d", i)}, Spec: migv1.MigPlanSpec{
			Namespaces:        share,
			SrcMigClusterRef:  fixtures.Ref(namespace, fixtures.SourceCluster),
			DestMigClusterRef: fixtures.Ref(namespace, fixtures.HostCluster),
			MigStorageRef:     fixtures.Ref(namespace, fixtures.Storage),
		}}
		if err := destination.Client.Create(ctx, plan); err != nil {
			return fmt.Errorf("create MigPlan: %w", err)
		}
		created = append(created, plan)
	}
	if err := fixtures.WaitReady(ctx, destination.Client, 15*time.Minute, created...); err != nil {
		return err
	}
	elapsed := time.Since(start)
	peak, err := operator.PeakRSS()
	if err != nil {
		return err
	}
	got := 0
	for _, p := range created {
		got += len(p.(*migv1.MigPlan).Spec.PersistentVolumes)
	}
	if got != wantPVs {
		return fmt.Errorf("the Ready plans list %d PVs, want %d", got, wantPVs)
	}
	fmt.Printf("%d MigPlans over %d namespaces and %d PVCs: all Ready in %s\n", plans, len(namespaces), wantPVs, elapsed.Round(10*time.Millisecond))
	fmt.Printf("Operator peak memory (VmHWM): %.1f MiB (%.1f MiB before the plans)\n", manager.MiB(peak), manager.MiB(rssBefore))
	fmt.Printf("plan_count %d\nplan_namespaces %d\nplan_pvcs %d\n", plans, len(namespaces), wantPVs)
	fmt.Printf("plan_ready_seconds %.2f\noperator_peak_rss_mib %.1f\n", elapsed.Seconds(), manager.MiB(peak))
	return nil
}

// split deals items into n shares of consecutive items, as even as they go.
func split(items []string, n int) [][]string {
	var out [][]string
	for i := range n {
		lo, hi := i*len(items)/n, (i+1)*len(items)/n
		out = append(out, items[lo:hi])
	}
	return out
}

func standardClass() *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Provisioner: "kubernetes.io/no-provisioner"}
}
