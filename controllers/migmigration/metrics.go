package migmigration

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/metrics"
)

// migrationsDesc is MTC's gauge of migrations by type and status, kept under its name so that
// existing dashboards and alerts keep working.
var migrationsDesc = prometheus.NewDesc("cam_app_workload_migrations",
	"Number of MigMigrations by type (stage or final) and status (idle, running, completed or failed).",
	[]string{"type", "status"}, nil)

// collector computes the gauge at scrape time from the manager's cache (MTC refreshed it from
// a goroutine every 10 s).
type collector struct{ reader client.Reader }

func (c collector) Describe(ch chan<- *prometheus.Desc) { ch <- migrationsDesc }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list := &migv1.MigMigrationList{}
	if err := c.reader.List(ctx, list); err != nil {
		return
	}
	counts := map[[2]string]float64{}
	for _, kind := range []string{"stage", "final"} {
		for _, status := range []string{"idle", "running", "completed", "failed"} {
			counts[[2]string{kind, status}] = 0
		}
	}
	for i := range list.Items {
		counts[[2]string{migrationType(&list.Items[i]), migrationStatus(&list.Items[i])}]++
	}
	for k, v := range counts {
		ch <- prometheus.MustNewConstMetric(migrationsDesc, prometheus.GaugeValue, v, k[0], k[1])
	}
}

func migrationType(m *migv1.MigMigration) string {
	if m.Spec.Stage || m.Spec.MigrateState {
		return "stage"
	}
	return "final"
}

func migrationStatus(m *migv1.MigMigration) string {
	c := m.Status.Conditions
	switch {
	case conditions.Find(c, migv1.Failed) != nil:
		return "failed"
	case m.Status.Phase == itinerary.Completed:
		return "completed"
	case m.Status.Phase != "":
		return "running"
	}
	return "idle"
}

// observeTransition records, when a migration leaves a phase, how long it spent there, and
// when its itinerary ends, how long the migration took; it then drops the migration's Velero
// item gauges.
func observeTransition(m *migv1.MigMigration, from itinerary.Cursor, res itinerary.Result, now time.Time) {
	if from.Phase != "" && (from.Phase != res.Cursor.Phase || from.Itinerary != res.Cursor.Itinerary) && !from.PhaseStartedAt.IsZero() {
		metrics.PhaseDuration.WithLabelValues(from.Itinerary, from.Phase).Observe(now.Sub(from.PhaseStartedAt).Seconds())
	}
	if !res.Done || m.Status.StartTimestamp == nil {
		return
	}
	outcome := "succeeded"
	switch {
	case res.Cursor.Itinerary == CancelItinerary:
		outcome = "canceled"
	case res.Cursor.Itinerary == FailedItinerary || conditions.Find(m.Status.Conditions, migv1.Failed) != nil:
		outcome = "failed"
	}
	metrics.MigrationDuration.WithLabelValues(durationType(m), outcome).Observe(now.Sub(m.Status.StartTimestamp.Time).Seconds())
	metrics.VeleroItems.DeletePartialMatch(prometheus.Labels{"namespace": m.Namespace, "migration": m.Name})
}

// durationType is the kind of migration for ferry_migration_duration_seconds.
func durationType(m *migv1.MigMigration) string {
	switch {
	case m.Spec.Rollback:
		return "rollback"
	case m.Spec.MigrateState:
		return "state"
	case m.Spec.Stage:
		return "stage"
	}
	return "final"
}

// veleroItems records the item counts of the migration's current Velero Backup or Restore.
func (s *Scope) veleroItems(kind, name string, done, total int) {
	m := s.Migration
	metrics.VeleroItems.WithLabelValues(m.Namespace, m.Name, kind, name, "done").Set(float64(done))
	metrics.VeleroItems.WithLabelValues(m.Namespace, m.Name, kind, name, "total").Set(float64(total))
}
