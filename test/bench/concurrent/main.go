// Command concurrent measures how migrations of different plans share the operator (make
// bench-concurrent): for 1, 4 and 8 plans at once, each cutting over its own namespace of 20
// objects with quiesced pods, it prints each plan's time from its MigMigration's creation to
// Completed, and the ratio of the slowest of 8 to one alone (target: at most 2). It runs on
// the end-to-end environment (two clusters, S3, two Velero servers, the operator installed
// from config/). Velero's servers take one Backup and one Restore at a time by default
// (--concurrent-backups 1), so part of what concurrency costs here is Velero's queue, which
// the figures include as users would meet it. For each round it also prints the mean time of
// each step of the migrations' pipelines and the CPU time each component used (API servers,
// etcd, Velero, the operator, the process nodes), so that what the slower rounds wait for is
// measured: on a machine whose CPUs are all busy, plans can only share them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/migenv"
)

const (
	ns      = migenv.Namespace
	objects = 20
)

func main() {
	managerPath := flag.String("manager", "", "Path of the operator binary (built when empty).")
	dir := flag.String("state-dir", ".ferry/bench-concurrent", "Where kubeconfigs and the operator log go.")
	veleroConcurrent := flag.Int("velero-concurrent-backups", 0, "The Velero servers' --concurrent-backups (Velero's default, 1, when 0).")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	if err := run(*managerPath, *dir, *veleroConcurrent); err != nil {
		fmt.Fprintln(os.Stderr, "bench-concurrent failed:", err)
		os.Exit(1)
	}
}

func run(managerPath, dir string, veleroConcurrent int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	fmt.Printf("Starting two clusters, S3, two Velero servers (--concurrent-backups %d, 0 is Velero's default of 1) and the operator...\n", veleroConcurrent)
	env, err := migenv.Start(ctx, migenv.Options{Dir: dir, Manager: managerPath, VeleroConcurrentBackups: veleroConcurrent})
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	results := map[int][]time.Duration{}
	for _, n := range []int{1, 4, 8} {
		times, err := round(ctx, env, n)
		if err != nil {
			return err
		}
		results[n] = times
		fmt.Printf("%d plan(s) at once: per plan %s; slowest %s\n", n, list(times), slices.Max(times).Round(time.Millisecond))
	}
	alone := results[1][0]
	slowest := slices.Max(results[8])
	fmt.Println("Target: the slowest of 8 plans at once takes at most 2× one plan alone.")
	fmt.Printf("concurrent_1_seconds %.2f\n", alone.Seconds())
	fmt.Printf("concurrent_4_max_seconds %.2f\n", slices.Max(results[4]).Seconds())
	fmt.Printf("concurrent_8_max_seconds %.2f\n", slowest.Seconds())
	fmt.Printf("concurrent_ratio_8_to_1 %.2f\n", slowest.Seconds()/alone.Seconds())
	return nil
}

// round cuts over n fresh namespaces, one plan each, all at once, and returns each
// migration's time from creation to Completed.
func round(ctx context.Context, env *migenv.Env, n int) ([]time.Duration, error) {
	host := env.Destination.Client
	watcher, err := client.NewWithWatch(env.Destination.Config, client.Options{Scheme: host.Scheme()})
	if err != nil {
		return nil, err
	}
	var migrations []*migv1.MigMigration
	for i := range n {
		app := fmt.Sprintf("conc-%d-%d", n, i)
		if err := fixtures.Populate(ctx, env.Source.Client, app, objects); err != nil {
			return nil, err
		}
		plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app}, Spec: migv1.MigPlanSpec{
			Namespaces:        []string{app + ":" + app + "-new"},
			SrcMigClusterRef:  fixtures.Ref(ns, fixtures.SourceCluster),
			DestMigClusterRef: fixtures.Ref(ns, fixtures.HostCluster),
			MigStorageRef:     fixtures.Ref(ns, fixtures.Storage),
		}}
		if err := host.Create(ctx, plan); err != nil {
			return nil, fmt.Errorf("create plan %s: %w", app, err)
		}
		if err := fixtures.WaitReady(ctx, host, 3*time.Minute, plan); err != nil {
			return nil, err
		}
		migrations = append(migrations, &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app},
			Spec: migv1.MigMigrationSpec{MigPlanRef: &corev1.ObjectReference{Namespace: ns, Name: app}, QuiescePods: true}})
	}
	out := make([]time.Duration, n)
	errs := make([]error, n)
	requestsBefore, err := countRequests(ctx, env.Source.Clientset, env.Destination.Clientset)
	if err != nil {
		return nil, err
	}
	began, cpuBefore := time.Now(), takeCPUSnapshot()
	defer func() { cpuReport(n, cpuBefore, takeCPUSnapshot(), time.Since(began)) }()
	defer func() {
		if after, err := countRequests(ctx, env.Source.Clientset, env.Destination.Clientset); err == nil {
			requestReport(n, requestsBefore, after)
		}
	}()
	defer func() { stepReport(n, migrations) }()
	var wg sync.WaitGroup
	for i, m := range migrations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = fixtures.RunMigration(ctx, watcher, m)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func list(times []time.Duration) string {
	parts := make([]string, len(times))
	for i, t := range times {
		parts[i] = t.Round(100 * time.Millisecond).String()
	}
	return strings.Join(parts, " ")
}

// stepReport prints the mean time the migrations spent in each step of their pipeline (from
// the steps' started and completed times, which the API keeps to the second), so that a
// slower round shows which steps grew.
func stepReport(n int, migrations []*migv1.MigMigration) {
	var order []string
	sums := map[string]time.Duration{}
	counts := map[string]int{}
	for _, m := range migrations {
		for _, step := range m.Status.Pipeline {
			if step.Started == nil || step.Completed == nil {
				continue
			}
			if counts[step.Name] == 0 {
				order = append(order, step.Name)
			}
			sums[step.Name] += step.Completed.Sub(step.Started.Time)
			counts[step.Name]++
		}
	}
	fmt.Printf("%d plan(s): mean time per step:", n)
	for _, name := range order {
		fmt.Printf(" %s %.1f s;", name, (sums[name] / time.Duration(counts[name])).Seconds())
	}
	fmt.Println()
}
