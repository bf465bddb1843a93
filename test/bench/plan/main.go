// Command plan measures how long Ferry takes to make a large MigPlan Ready and how much memory
// the operator needs for it (make bench-plan). It builds a source cluster with many namespaces,
// each with bound PVCs and a pod mounting them, registers it with the operator (run as its own
// process against a destination cluster) and times a plan over every namespace from creation
// to Ready. It prints figures; it asserts only that the plan is correct.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
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
	manager, stateDir              string
	timeout                        time.Duration
}

func main() {
	o := options{}
	flag.IntVar(&o.namespaces, "namespaces", 5000, "Namespaces in the plan.")
	flag.IntVar(&o.claimsPerNamespace, "claims", 2, "Bound PVCs per namespace.")
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
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
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
	return measurePlan(ctx, destination, operator, names, o.namespaces*o.claimsPerNamespace)
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

// measurePlan creates the plan, waits until it is Ready and prints the figures.
func measurePlan(ctx context.Context, destination *controlplane.ControlPlane, operator *manager.Process, namespaces []string, wantPVs int) error {
	plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "bench"}, Spec: migv1.MigPlanSpec{
		Namespaces:        namespaces,
		SrcMigClusterRef:  fixtures.Ref(namespace, fixtures.SourceCluster),
		DestMigClusterRef: fixtures.Ref(namespace, fixtures.HostCluster),
		MigStorageRef:     fixtures.Ref(namespace, fixtures.Storage),
	}}
	rssBefore, err := operator.PeakRSS()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := destination.Client.Create(ctx, plan); err != nil {
		return fmt.Errorf("create MigPlan: %w", err)
	}
	if err := fixtures.WaitReady(ctx, destination.Client, 15*time.Minute, plan); err != nil {
		return err
	}
	elapsed := time.Since(start)
	peak, err := operator.PeakRSS()
	if err != nil {
		return err
	}
	if got := len(plan.Spec.PersistentVolumes); got != wantPVs {
		return fmt.Errorf("the Ready plan lists %d PVs, want %d", got, wantPVs)
	}
	fmt.Printf("MigPlan over %d namespaces and %d PVCs: Ready in %s\n", len(namespaces), wantPVs, elapsed.Round(10*time.Millisecond))
	fmt.Printf("Operator peak memory (VmHWM): %.1f MiB (%.1f MiB before the plan)\n", manager.MiB(peak), manager.MiB(rssBefore))
	fmt.Printf("plan_namespaces %d\nplan_pvcs %d\n", len(namespaces), wantPVs)
	fmt.Printf("plan_ready_seconds %.2f\noperator_peak_rss_mib %.1f\n", elapsed.Seconds(), manager.MiB(peak))
	return nil
}

func standardClass() *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Provisioner: "kubernetes.io/no-provisioner"}
}
