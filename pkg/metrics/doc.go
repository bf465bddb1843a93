// Package metrics owns Ferry's Prometheus metrics, served on the manager's metrics endpoint
// (controller-runtime's registry, secured as kubebuilder does: HTTPS, callers authenticated
// with TokenReview and authorized with SubjectAccessReview on nonResourceURL /metrics).
//
// Two kinds:
//   - Observations the controllers make as things happen: migration and phase durations
//     (histograms), Velero item counts of the current Backup or Restore (gauges).
//   - State read at scrape time from the manager's cache (objects.go): migrations by phase
//     and outcome, cluster reachability, bytes, files and rate per DirectVolumeMigration and
//     PVC, image bytes per DirectImageStreamMigration. Reading at scrape time keeps them
//     right after an operator restart and costs nothing between scrapes; nothing is kept in
//     memory for objects that are gone.
//
// controller-runtime already exports reconcile counts, errors and durations per controller
// (controller_runtime_reconcile_total, controller_runtime_reconcile_errors_total, ...), and
// MTC's cam_app_workload_migrations gauge is kept by the MigMigration controller.
package metrics
