// Package faults is the fault suite: migrations of applications with volumes on two local
// clusters (test/migenv: the operator installed from config/default under its ServiceAccount,
// the source registered with a token bound to config/rbac/remote/source, real Velero, real
// rsync and stunnel), each hit by one fault while it runs. Every spec checks what a user would:
// the migration ends in a clear state (Completed, Canceled, or Failed naming the cause), the
// application runs on exactly one side (the source unless a cutover completed), and the bytes
// of every volume on both sides are the ones the migration was asked to produce (checksums of
// the source data before and after, of the destination copy, of a foreign PVC left alone).
//
// The faults and what Ferry guarantees under each:
//
//   - The operator SIGKILLed at random moments during volume transfers, at the end of a copy
//     (the moment a client pod is deleted), during a cancel and during a rollback, and started
//     again as its Deployment would: every cutover completes, the cancel ends Canceled with the
//     source running, the rollback rolls back. Nothing is orphaned or duplicated, because child
//     names are recorded in status before the children exist and each rsync verdict is
//     persisted before the cleanup that follows it.
//   - The source API server stopped for 30 s while a volume is copied: the cutover completes
//     once it is back.
//   - The source token rotated (the old one revoked) mid-copy: the cutover completes with the
//     new token written into the MigCluster's Secret.
//   - The destination's Velero server killed mid-restore and started again: the migration ends
//     completed, or failed naming the restore with the source application running again.
//   - The rsync server pod lost while the client connects: the DVM creates it again, the
//     client retries (a cut handshake is not a refused certificate), and the copy completes.
//   - The plan deleted mid-cutover: the MigMigration's finalizer runs the Cancel path first
//     (un-quiesce, cleanup), then the migration and the plan go.
//   - A pre-existing destination PVC no migration created: the migration fails naming it and
//     never writes to it (opt in with the reuse annotation).
//   - Two plans sharing a destination namespace: the second is refused (PlanConflict) while the
//     first is open; once the first is closed, the second may not copy over the first's volume,
//     which keeps its data and its running application.
//   - A ResourceQuota that refuses transfer pods: the migration shows the quota's message at
//     once (FailedCreatingRsyncPods), keeps trying, and ends once the quota is lifted.
//
// Trade-off: the contained faults run side by side (each in its own namespaces) to keep the
// suite within its time budget on two cores; the operator kills and the cluster-wide faults
// (API server, token, Velero) run after them, since they touch every migration in flight.
package faults
