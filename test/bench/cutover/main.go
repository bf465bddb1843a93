// Command cutover measures a cutover's downtime (make bench-cutover): an application that
// keeps writing to a 1 GiB volume holding about 1 GiB of data is staged, 10 MiB of it changes,
// then it is cut over with quiesced pods; the downtime is the time from the source Deployment
// scaled to 0 to the destination pod ready, as a user watching both sees it (polled every
// 50 ms). It runs once with enable_warm_sync off (everything that changed since the stage is
// copied after quiescing, as MTC does) and once with it on (Ferry's warm sync), side by side
// in one environment (two clusters, S3, two Velero servers, the operator), and prints each
// run's downtime, its total time and where the time went (the pipeline's steps, and the
// phases of the cutover and its DVMs as watched, to the millisecond), then machine-readable
// last lines. It asserts nothing: the comparison is
// test/migration's ("cuts over a writing app with warm sync").
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/migenv"
)

const (
	ns = migenv.Namespace
	// The volume: 60 files of 16 MiB (960 MiB) on a 1 GiB claim, then 10 MiB changed.
	baseFiles = 60
	baseSize  = 16 << 20
	deltaSize = 10 << 20
)

func main() {
	managerPath := flag.String("manager", "", "Path of the operator binary (built when empty).")
	dir := flag.String("state-dir", ".ferry/bench-cutover", "Where kubeconfigs, volumes and the operator log go.")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	if err := run(*managerPath, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench-cutover failed:", err)
		os.Exit(1)
	}
}

// measure is one cutover's figures.
type measure struct {
	downtime, total time.Duration
	steps           string
	phases          string // the final migration's and its DVMs' phases (timeline)
}

func run(managerPath, dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	fmt.Println("Starting two clusters, S3, two Velero servers and the operator...")
	env, err := migenv.Start(ctx, migenv.Options{Dir: dir, Manager: managerPath})
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	volumes, err := os.MkdirTemp("", "bench-cutover-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(volumes) }()
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migration-controller"}}
	if err := env.Destination.Client.Create(ctx, mc); err != nil {
		return fmt.Errorf("create MigrationController: %w", err)
	}
	results := map[bool]measure{}
	for _, warm := range []bool{false, true} {
		patch := client.MergeFrom(mc.DeepCopy())
		mc.Spec.EnableWarmSync = ptr.To(warm)
		if err := env.Destination.Client.Patch(ctx, mc, patch); err != nil {
			return fmt.Errorf("set enable_warm_sync: %w", err)
		}
		m, err := cutover(ctx, env, volumes, warm)
		if err != nil {
			return err
		}
		results[warm] = m
		fmt.Printf("warm sync %v: downtime %s, cutover %s; steps: %s\n",
			warm, m.downtime.Round(10*time.Millisecond), m.total.Round(10*time.Millisecond), m.steps)
		fmt.Printf("warm sync %v: phases, each until the next began: %s\n", warm, m.phases)
	}
	off, on := results[false], results[true]
	fmt.Println("Target: downtime under 20 s.")
	fmt.Printf("cutover_total_seconds_warm_off %.2f\n", off.total.Seconds())
	fmt.Printf("cutover_total_seconds_warm_on %.2f\n", on.total.Seconds())
	fmt.Printf("cutover_downtime_seconds_warm_off %.2f\n", off.downtime.Seconds())
	fmt.Printf("cutover_downtime_seconds_warm_on %.2f\n", on.downtime.Seconds())
	return nil
}

// cutover builds the writing application in a namespace of its own, stages it, changes
// 10 MiB and cuts it over, measuring the downtime.
func cutover(ctx context.Context, env *migenv.Env, volumes string, warm bool) (measure, error) {
	app := map[bool]string{false: "cut-warm-off", true: "cut-warm-on"}[warm]
	host := env.Destination.Client
	watcher, err := client.NewWithWatch(env.Destination.Config, client.Options{Scheme: host.Scheme()})
	if err != nil {
		return measure{}, err
	}
	dir, err := os.MkdirTemp(volumes, app)
	if err != nil {
		return measure{}, err
	}
	fmt.Printf("%s: writing %d MiB, then starting the writing app...\n", app, baseFiles*baseSize>>20)
	if err := fixtures.FillFiles(dir, "base", baseFiles, baseSize); err != nil {
		return measure{}, err
	}
	if err := fixtures.WriterApp(ctx, env.Source.Client, app, dir, "1Gi"); err != nil {
		return measure{}, err
	}
	plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app}, Spec: migv1.MigPlanSpec{
		Namespaces:        []string{app + ":" + app + "-new"},
		SrcMigClusterRef:  fixtures.Ref(ns, fixtures.SourceCluster),
		DestMigClusterRef: fixtures.Ref(ns, fixtures.HostCluster),
		MigStorageRef:     fixtures.Ref(ns, fixtures.Storage),
	}}
	if err := host.Create(ctx, plan); err != nil {
		return measure{}, fmt.Errorf("create plan %s: %w", app, err)
	}
	if err := fixtures.WaitReady(ctx, host, 3*time.Minute, plan); err != nil {
		return measure{}, err
	}
	stage, err := migrate(ctx, watcher, app+"-stage", app, migv1.MigMigrationSpec{Stage: true, RunAsRoot: ptr.To(true)})
	if err != nil {
		return measure{}, err
	}
	fmt.Printf("%s: stage copied the volume in %s; changing 10 MiB, then cutting over\n", app, stage.total.Round(10*time.Millisecond))
	if err := fixtures.FillFiles(dir, "delta", 1, deltaSize); err != nil {
		return measure{}, err
	}
	phasesCtx, stopPhases := context.WithCancel(ctx)
	defer stopPhases()
	phases, err := watchPhases(phasesCtx, watcher, ns, app+"-final")
	if err != nil {
		return measure{}, err
	}
	watch := fixtures.WatchDowntime(ctx, env.Source.Client, host, app, app+"-new", "web")
	began := time.Now()
	final, err := migrate(ctx, watcher, app+"-final", app, migv1.MigMigrationSpec{QuiescePods: true, RunAsRoot: ptr.To(true)})
	if err != nil {
		return measure{}, err
	}
	final.phases = phases.since(began)
	seen := <-watch
	if seen.Err != nil {
		return measure{}, seen.Err
	}
	final.downtime = seen.Value.Duration()
	// The destination app writes on; stop it before the environment removes its volume.
	return final, fixtures.StopApp(ctx, host, app+"-new")
}

// migrate runs a migration of plan to Completed and returns its total time and its steps'
// durations (which the API keeps to the second).
func migrate(ctx context.Context, host client.WithWatch, name, plan string, spec migv1.MigMigrationSpec) (measure, error) {
	spec.MigPlanRef = &corev1.ObjectReference{Namespace: ns, Name: plan}
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
	total, err := fixtures.RunMigration(ctx, host, m)
	if err != nil {
		return measure{}, err
	}
	return measure{total: total, steps: steps(m)}, nil
}

// steps lists each pipeline step's duration, and the warm passes' lines.
func steps(m *migv1.MigMigration) string {
	var parts []string
	for _, s := range m.Status.Pipeline {
		if s.Started == nil || s.Completed == nil {
			continue
		}
		part := fmt.Sprintf("%s %.1fs", s.Name, s.Completed.Sub(s.Started.Time).Seconds())
		if s.Name == "WarmSync" {
			part += " [" + strings.Join(s.Progress, "; ") + "]"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}
