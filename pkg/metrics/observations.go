package metrics

import "github.com/prometheus/client_golang/prometheus"

var (
	// MigrationDuration is how long migrations took from start to end, by type (stage, final,
	// state, rollback) and outcome (succeeded, failed, canceled).
	MigrationDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ferry_migration_duration_seconds",
		Help:    "Duration of ended MigMigrations from start to end, by type and outcome.",
		Buckets: prometheus.ExponentialBuckets(5, 2, 12), // 5 s to about 3 h
	}, []string{"type", "outcome"})

	// PhaseDuration is how long migrations spent in a phase they left (phases passed within
	// one reconcile are not observed: they took a fraction of it).
	PhaseDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ferry_migration_phase_duration_seconds",
		Help:    "Time MigMigrations spent in each phase they left, by itinerary and phase.",
		Buckets: prometheus.ExponentialBuckets(0.25, 2.5, 12), // 0.25 s to about 4 h
	}, []string{"itinerary", "phase"})

	// VeleroItems are the items of a migration's current Velero Backup or Restore, as Velero
	// counts them: the total it estimates and those done.
	VeleroItems = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ferry_velero_items",
		Help: "Items of the current Velero Backup or Restore of a MigMigration (state: total or done).",
	}, []string{"namespace", "migration", "kind", "name", "state"})
)

// observations are the collectors above, registered by Register.
func observations() []prometheus.Collector {
	return []prometheus.Collector{MigrationDuration, PhaseDuration, VeleroItems}
}
