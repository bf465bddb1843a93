// Command migration measures Ferry's own overhead in a migration (make bench-migration): the
// time from a MigMigration's creation to Completed, minus the time Velero spent on its
// backup and restore, for a namespace of 50 objects. It runs on the same environment as the
// end-to-end tests (two clusters, S3, two Velero servers, the operator as a process), cuts
// over one namespace per run with quiesced pods, and prints figures per run and the median.
// Velero's time is observed from outside: from the moment its Backup (Restore) object exists
// to the moment its phase says Completed, polled every 10 ms on both clusters; the migration
// is watched (fixtures.RunMigration).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
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
	objects = 50
	poll    = 10 * time.Millisecond
)

func main() {
	runs := flag.Int("runs", 3, "Migrations to time.")
	managerPath := flag.String("manager", "", "Path of the operator binary (built when empty).")
	dir := flag.String("state-dir", ".ferry/bench-migration", "Where kubeconfigs and the operator log go.")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	if err := run(*runs, *managerPath, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench-migration failed:", err)
		os.Exit(1)
	}
}

type figures struct{ total, backup, restore time.Duration }

func (f figures) overhead() time.Duration { return f.total - f.backup - f.restore }

func run(runs int, managerPath, dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	fmt.Println("Starting two clusters, S3, two Velero servers and the operator...")
	env, err := migenv.Start(ctx, migenv.Options{Dir: dir, Manager: managerPath})
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	var all []figures
	for i := range runs {
		f, err := once(ctx, env, i)
		if err != nil {
			return err
		}
		all = append(all, f)
		fmt.Printf("run %d: total %s, Velero backup %s, Velero restore %s, Ferry overhead %s\n",
			i+1, f.total.Round(time.Millisecond), f.backup.Round(time.Millisecond), f.restore.Round(time.Millisecond), f.overhead().Round(time.Millisecond))
	}
	slices.SortFunc(all, func(a, b figures) int { return int(a.overhead() - b.overhead()) })
	m := all[len(all)/2]
	fmt.Printf("median Ferry overhead for a namespace of %d objects: %s (target: under 10s; total %s)\n",
		objects, m.overhead().Round(time.Millisecond), m.total.Round(time.Millisecond))
	fmt.Printf("migration_objects %d\nmigration_total_seconds %.2f\nmigration_velero_seconds %.2f\nmigration_overhead_seconds %.2f\n",
		objects, m.total.Seconds(), (m.backup + m.restore).Seconds(), m.overhead().Seconds())
	return nil
}

// once migrates a fresh namespace and times it.
func once(ctx context.Context, env *migenv.Env, i int) (figures, error) {
	app := fmt.Sprintf("bench-%d", i)
	if err := fixtures.Populate(ctx, env.Source.Client, app, objects); err != nil {
		return figures{}, err
	}
	plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app}, Spec: migv1.MigPlanSpec{
		Namespaces:        []string{app + ":" + app + "-new"},
		SrcMigClusterRef:  fixtures.Ref(ns, fixtures.SourceCluster),
		DestMigClusterRef: fixtures.Ref(ns, fixtures.HostCluster),
		MigStorageRef:     fixtures.Ref(ns, fixtures.Storage),
	}}
	host := env.Destination.Client
	watcher, err := client.NewWithWatch(env.Destination.Config, client.Options{Scheme: host.Scheme()})
	if err != nil {
		return figures{}, err
	}
	if err := host.Create(ctx, plan); err != nil {
		return figures{}, fmt.Errorf("create plan: %w", err)
	}
	if err := fixtures.WaitReady(ctx, host, 2*time.Minute, plan); err != nil {
		return figures{}, err
	}
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app}, Spec: migv1.MigMigrationSpec{
		MigPlanRef: &corev1.ObjectReference{Namespace: ns, Name: app}, QuiescePods: true}}

	oldBackups, err := names(ctx, env.Source.Client, &velerov1.BackupList{})
	if err != nil {
		return figures{}, err
	}
	oldRestores, err := names(ctx, host, &velerov1.RestoreList{})
	if err != nil {
		return figures{}, err
	}
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	var backup, restore time.Duration
	wg.Add(2)
	go func() {
		defer wg.Done()
		backup = veleroTime(watchCtx, env.Source.Client, &velerov1.BackupList{}, oldBackups)
	}()
	go func() { defer wg.Done(); restore = veleroTime(watchCtx, host, &velerov1.RestoreList{}, oldRestores) }()

	total, err := fixtures.RunMigration(ctx, watcher, m)
	if err != nil {
		stop() // Velero's objects may never complete
		wg.Wait()
		return figures{}, err
	}
	wg.Wait()
	return figures{total: total, backup: backup, restore: restore}, nil
}

// veleroTime polls list (a BackupList or RestoreList in the Velero namespace) and returns the
// time from the first sight of an object not in before to the sight of it Completed.
func veleroTime(ctx context.Context, c client.Client, list client.ObjectList, before map[string]bool) time.Duration {
	seen := map[string]time.Time{}
	for ctx.Err() == nil {
		if err := c.List(ctx, list, client.InNamespace(ns)); err == nil {
			now := time.Now()
			for _, item := range items(list) {
				if before[item.name] {
					continue
				}
				if _, ok := seen[item.name]; !ok {
					seen[item.name] = now
				}
				if item.completed {
					return now.Sub(seen[item.name])
				}
			}
		}
		time.Sleep(poll)
	}
	return 0
}

type veleroItem struct {
	name      string
	completed bool
}

// items returns the names of list's objects and whether each has completed.
func items(list client.ObjectList) []veleroItem {
	var out []veleroItem
	switch l := list.(type) {
	case *velerov1.BackupList:
		for _, b := range l.Items {
			out = append(out, veleroItem{name: b.Name, completed: b.Status.Phase == velerov1.BackupPhaseCompleted})
		}
	case *velerov1.RestoreList:
		for _, r := range l.Items {
			out = append(out, veleroItem{name: r.Name, completed: r.Status.Phase == velerov1.RestorePhaseCompleted})
		}
	}
	return out
}

// names lists the names of list's objects in the Velero namespace now.
func names(ctx context.Context, c client.Client, list client.ObjectList) (map[string]bool, error) {
	if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list Velero objects: %w", err)
	}
	out := map[string]bool{}
	for _, item := range items(list) {
		out[item.name] = true
	}
	return out, nil
}
