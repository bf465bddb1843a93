// Package velero runs a real Velero server (v1.18.3 with the AWS object-store plugin, built
// from the pinned sources by `make velero`) for a test control plane, storing backups in a
// bucket of the test S3 server, so that backups and restores in tests are Velero's own.
//
//	srv, err := velero.Start(ctx, velero.Options{
//		Kubeconfig: kubeconfigPath, // controlplane.ControlPlane.WriteKubeconfig
//		Namespace:  "velero",
//		S3:         s3srv,
//		Bucket:     "backups",
//	})
//	...
//	defer srv.Stop()
//
// Servers of several clusters pointed at one bucket see each other's backups, as in a
// migration: a Backup made on "source" appears on "destination" and can be restored there.
//
// # Implementation considerations
//
//   - The server runs outside the cluster, as a process with an admin kubeconfig, exactly as
//     `velero server` runs in its pod. No kubelet runs Pods in a test control plane, so
//     Velero's in-pod features (node-agent, file-system backup, data mover) are not
//     available; object backup and restore are.
//   - Start prepares what `velero install` would: the namespace, the S3 credentials Secret, the
//     BackupStorageLocation "default" (provider aws, path-style s3Url, the server's CA when it
//     serves TLS), and a Deployment velero with zero replicas, because Velero reads the image of
//     that Deployment for restore helpers and otherwise ends restores PartiallyFailed. It also
//     creates the velero.io/v2alpha1 CRDs (DataUpload, DataDownload), which the server refuses
//     to start without and test/controlplane does not install.
//   - Velero's CRDs have no status subresource, so the storage location is created with
//     status.phase Available: the backup sync skips a location until then. Start returns once
//     the server has validated the location itself (lastValidationTime set, phase Available),
//     which proves it reached both the API server and the object store.
//   - Backup sync between clusters is slow by design: Velero's sync controller ticks once a
//     minute (hard-coded); --backup-sync-period only sets a minimum inside that tick. A Backup
//     made on one cluster takes up to about a minute to appear on another cluster whose server
//     is running. A server started after the backup exists finds it in its first pass, which
//     runs at start (measured: the record is there when Start returns).
//   - Binaries are found like test/controlplane's: FERRY_VELERO_BIN (a directory holding velero
//     and plugins/) if set, else bin/velero of the repository that contains the working
//     directory. Missing binaries fail with the command that builds them. The plugin directory
//     holds only the AWS plugin, because Velero runs every executable in it as a plugin.
//   - Every address is loopback: the metrics and profiler listeners get free 127.0.0.1 ports
//     (chosen by binding port 0 and releasing it, a short race), and the velero binary is
//     linked with controller-runtime's metrics listener turned off (it would bind :8080 on all
//     interfaces, and a second server on the host would die on the taken port).
//   - Each server has its own TMPDIR and HOME (Velero writes the location's credentials to
//     $TMPDIR/credentials) and a log file; AWS_*, VELERO_* and KUBECONFIG are removed from its
//     environment so that the developer's settings cannot change what it talks to.
//   - The server runs in its own process group with Pdeathsig SIGKILL. Stop sends SIGTERM to
//     the group, kills it after 10 seconds, then kills what is left of the group (plugin
//     processes), and removes the directory. If the test process dies without Stop, the
//     server is killed by Pdeathsig; plugin processes are short-lived (one per operation) and
//     exit by themselves once the server is gone (checked by killing the server mid-backup).
package velero
