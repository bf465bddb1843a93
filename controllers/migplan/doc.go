// Package migplan reconciles MigPlans: it validates what a plan refers to and what it asks for
// (MTC's catalogue of conditions), discovers the persistent volumes of the plan's namespaces
// while keeping the user's selections, makes sure Velero's storage objects for the plan's
// MigStorage exist on both clusters, and reports Ready when a migration may run.
//
// # Implementation considerations
//
//   - Observation and judgement are separate. observe*.go reads the host and both clusters into
//     a facts struct; validate*.go are pure functions from facts to conditions (table-tested
//     without Kubernetes); migplan_status.go assembles them with Ready. PV discovery
//     (pv_discovery.go) is pure too.
//   - Remote reads are bounded: with many namespaces, pods, PVCs and PVs are listed cluster-wide
//     once and filtered in memory instead of one request per namespace.
//   - The controller writes spec.persistentVolumes and spec.refresh (MTC's contract) with an
//     optimistic-lock merge patch, so a user's concurrent edit is never overwritten: the
//     reconcile fails with a conflict and runs again on the new spec.
//   - While a migration runs (Suspended) discovery and storage changes stop and their last
//     conditions are kept, so a running migration never sees its plan change under it.
//   - A plan closed or deleted while migrations of it run keeps its Velero storage (and, when
//     deleted, itself, through its finalizer) until they have ended: they cancel themselves
//     and need the storage to delete their backups. RetireWaitingForMigrations says so; the
//     running migrations are listed without the cache.
//   - DestinationPVCsExist warns when a PVC rsync would copy into already exists on the
//     destination and no migration of the plan created it: the DVM refuses it unless the plan
//     carries ReuseExistingDestinationPVCsAnnotation.
//   - Settings (limits, excluded resources) are read from the MigrationController on every
//     reconcile, so a change applies without restarting the operator.
//   - The GVK compatibility check (gvk.go) discovers both clusters once per reconcile and
//     lists instances (metadata only, one item) only for the kinds the destination lacks.
//   - Fixes of MTC: namespace checks use the source part of "src:dest" entries; malformed
//     mappings get their own condition instead of passing silently.
package migplan
