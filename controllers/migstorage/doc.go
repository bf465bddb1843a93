// Package migstorage reconciles MigStorages: it validates the backup storage and the optional
// volume snapshot provider with MTC's rules, proves the bucket with a live test, and reports
// the result in MTC's conditions (InvalidBackupStorageProvider,
// InvalidBackupStorageCredsSecretRef, InvalidBackupStorageSettings,
// BackupStorageProviderTestFailed, their VolumeSnapshot counterparts, Ready). It creates
// nothing on clusters: the MigPlan controller builds the Velero objects with pkg/objectstore.
//
// # Implementation considerations
//
//   - Checks run in a fixed order and stop at the first failure, separately for the backup
//     storage and the snapshot provider (a snapshot problem does not hide a backup problem).
//     Each failure is recorded in a scope; conditions are computed from the scope in one place
//     (migstorage_status.go).
//   - The live test writes, reads back and deletes an object under ferry-probe/ in the bucket
//     (pkg/objectstore). It runs on every reconcile: on a timer (RequeueAfter, 60s when Ready,
//     15s when not, where MTC polls every 30s), on spec changes and at once when a credentials
//     Secret changes. The Secret watch is metadata-only and Secrets are read with the uncached
//     APIReader, so credentials are never cached in the operator's memory.
//   - A provider without a live test here (gcp, azure) does not fail the storage: it becomes
//     Ready with an Advisory BackupStorageProviderTestSkipped condition saying the bucket is
//     unproven. Snapshot providers are validated only, as in MTC.
//   - Credentials never reach logs, events or conditions: messages are built from field names
//     and from objectstore.TestError messages, which redact them. Test failure messages do not
//     change between runs, so a persisting failure is one condition transition and one event.
//   - A credentials Secret is read only in the MigStorage's namespace or openshift-config
//     (pkg/secretref); another namespace is refused with a Critical
//     Invalid*CredsSecretRef/NotSupported condition and never read, since the keys would be
//     copied into the Velero namespace and used against an endpoint the MigStorage names.
//   - The tester is an interface so that unit tests can fake it; the integration suite uses
//     the real one against a real S3 server (test/s3).
package migstorage
