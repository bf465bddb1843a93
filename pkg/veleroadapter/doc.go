// Package veleroadapter owns the Velero objects a MigMigration creates and the reading of
// their outcome: the initial and stage Backups on the source, the stage and final Restores on
// the destination, DeleteBackupRequests, the selectors that find a plan's or a migration's
// objects, the mapping of Velero phases to a migration's states and MTC's progress lines, the
// replication of a finished Backup record to the destination, and the errors and warnings
// of a backup or restore fetched through a DownloadRequest.
//
// It holds no controller: builders are pure functions, and the few functions that talk to a
// cluster take the clients they use (ReplicateBackup, EnsureDownloadRequest, Results).
//
// # Implementation considerations
//
//   - Names are deterministic (Name): "<migration>-<role>-<hash of the migration UID>", at
//     most 63 characters. MTC used generateName, so a controller that crashed between the
//     create and its status update could not tell its Backup from none and made another;
//     with a fixed name the create answers AlreadyExists and the caller reads the object. 63
//     characters because Velero puts backup and restore names into label values
//     (velero.io/backup-name on PodVolumeBackups, restored objects, DeleteBackupRequests) and
//     replaces the end of longer names with a hash (label.GetValidName), after which lookups
//     by name through those labels need the same hashing.
//   - Labels and annotations follow MTC's contract with the openshift-velero-plugin
//     (mtc-behavior.md §10): correlation labels, the role label
//     (migration-initial-backup, ...), migrated-by-migmigration and migrated-by-migplan, which
//     the plugin copies onto every restored object for rollback, and the migmigration-type and
//     migrate-quiesce-pods annotations (never quiesce on the initial backup, which runs before
//     the quiesce). Name labels go through label.GetValidName, since MTC's raw names broke the
//     create of objects of migrations with names longer than 63 characters.
//   - PlanSelector uses migrated-by-migplan: MTC listed a plan's Backups and Restores by the
//     plan's correlation label migplan=<uid>, which its builders never set on them (they got
//     the migration's correlation labels), so cancel and rollback found none.
//   - Included and excluded resources never overlap (Velero fails such a Backup's validation),
//     and lists are sorted so that rebuilding an object gives the same spec.
//   - DeleteBackupRequests keep a generated name, like Velero's CLI: see
//     NewDeleteBackupRequest for why a fixed name would block a repeated cancel.
//   - Outcome: every phase that Velero v1.18.3 may still leave (New, Queued, ReadyToStart,
//     InProgress, WaitingForPluginOperations[PartiallyFailed], Finalizing[PartiallyFailed])
//     is Running, an unknown phase too (with a message), so that a newer Velero never fails a
//     migration by surprise; the caller's phase timeout bounds the wait. A Backup in Deleting
//     is Failed: there will be nothing to restore.
//
// # Why replicating a Backup record is safe
//
// A Backup made on the source reaches the destination through Velero's backup sync, which
// runs once a minute whatever --backup-sync-period says; a migration would wait up to a
// minute per backup. ReplicateBackup creates the record itself, the way the sync controller
// (pkg/controller/backup_sync_controller.go, v1.18.3) would:
//
//   - The data is already in the bucket: Velero uploads the backup's final metadata before
//     it patches the Backup to Completed (backup_finalizer_controller.go), so a Completed or
//     PartiallyFailed Backup on the source is in object storage; other phases are refused
//     (ErrNotReplicable).
//   - The record is the one the sync would create: the sync reads velero-backup.json, which
//     is the Backup object as of that upload. The copy keeps labels, annotations, spec and
//     status, drops hooks and Schedule owner references, and names the destination's own
//     BackupStorageLocation on the same provider, bucket and prefix in spec.storageLocation
//     and the velero.io/storage-location label. Location names differ per cluster (MTC
//     creates them with generateName), so the location is matched by bucket, not by name.
//   - The sync does not fight the copy: it creates only backups whose names are missing from
//     the cluster, and treats AlreadyExists as done; it deletes a record as an orphan only
//     when the backup is missing from its location's storage, which the matching location
//     makes impossible; and no other controller acts on a Completed Backup, which a synced
//     one is too. Velero's garbage collection expires the copy like a synced record.
//   - PodVolumeBackups: the sync creates them right after the Backup, and skips them when
//     the Backup already exists. So ReplicateBackup copies them too (with the new Backup
//     UID), on every call, also when the Backup was there already: restores of file-system
//     backups look them up in the cluster by velero.io/backup-name.
//   - Velero CRDs have no status subresource, so the status is created with the object.
//
// # Results
//
// Velero keeps the errors and warnings of a backup or restore in object storage, reachable
// only through a DownloadRequest that Velero's server answers with a signed URL, as
// `velero restore describe --details` does (pkg/cmd/util/downloadrequest). The request has a
// deterministic name so that a reconciler can split the wait over reconciles without
// blocking: EnsureDownloadRequest creates it and returns the Download once Velero signed it,
// Summary fetches and condenses the file, DeleteDownloadRequest removes the request. Results
// does all three for callers with a short deadline. The download trusts the location's CA
// (caCert or caCertRef) and honours its insecureSkipTLSVerify, as Velero's CLI does. Unlike
// the CLI, which a person runs against a URL their own Velero signed, the operator fetches
// URLs that whoever can write a DownloadRequest's status on a remote cluster chose, from
// inside the host cluster: the URL must point at the location's object store (its s3Url or
// publicUrl, else its provider's public endpoints; LocationHosts), redirects are not
// followed, and errors carry the status but never the answer's body or the URL's signed
// query string.
package veleroadapter
