// Package directvolumemigration runs DirectVolumeMigrations: it copies PVCs from a source to a
// destination cluster with rsync over mutually authenticated TLS (stunnel), one client pod per
// PVC on the source and one rsync server pod per destination namespace. The objects it runs
// are built by pkg/transfer; this package decides when to create, observe and delete them.
//
// A reconcile reads the DVM without a cache (observe.go), validates it with MTC's conditions
// (validate.go), runs its itinerary with pkg/itinerary (itineraries.go, run.go) and patches
// the status subresource once, under optimistic locking, with the conditions computed in one
// place (status.go). Step functions live in steps_*.go, one small function per phase.
//
// Itineraries (MTC's phase names): VolumeMigration runs Started, Prepare,
// CleanStaleRsyncResources, WaitForStaleRsyncResourcesTerminated, CreateDestinationNamespaces,
// DestinationNamespacesCreated, CreateDestinationPVCs, CreateRsyncRoute (the Services),
// EnsureRsyncRouteAdmitted (an address for each), CreateRsyncConfig (credentials),
// CreateStunnelConfig, CreatePVProgressCRs, CreateRsyncTransferPods,
// WaitForRsyncTransferPodsRunning, RunRsyncOperations, DeleteRsyncResources and
// WaitForRsyncResourcesTerminated; VolumeMigrationFailed runs MigrationFailed and the same
// cleanup; VolumeMigrationRollback only cleans stale resources (MTC's rollback copies nothing
// for PVCs that are not VM disks).
//
// # Controller considerations
//
//   - Nothing blocks: every phase creates or checks something and returns; pods on the
//     clusters are polled because remote clusters have no watch source in pkg/clustercache
//     yet: at a quarter of the phase's wait so far (itinerary.Poll), from 250 ms up to 2 s
//     while servers start and 3 s during the transfer, so that the seconds a small final
//     copy takes are not rounded up to whole intervals inside a cutover's downtime. A
//     reconcile is bounded (remoteTimeout) and so is every log read.
//   - Crash safety: every object has a deterministic name derived from the DVM's UID
//     (transfer.Names): two DVMs writing to one namespace never collide, and a reconcile that
//     died half-way finds what it created. A client pod's name also carries its attempt
//     number, which is written to status.rsyncOperations before the pod is created. The
//     credentials (CA, certificates, password) are made once and stored on the host before
//     any cluster gets a copy, so both ends always match.
//   - Cleanup is by label (directvolumemigration=<uid>, app=directvolumemigration-rsync-
//     transfer) on both clusters, after success, after failure (MTC jumped from
//     MigrationFailed to Completed and left the pods behind) and from the finalizer when the
//     DVM is deleted. DVMPs are kept (they hold the statistics of each attempt) unless
//     deleteProgressReportingCRs is set; they are owned by the DVM and go with it.
//   - Progress: this controller writes the DVMPs' status itself while it follows each client
//     pod (one log read per running pod per poll, the tail only), instead of a second
//     controller polling the same pods every 5 s as MTC did. A DVMP created by hand is not
//     reconciled.
//   - Failures are classified from the pod log (transfer.Classify): endpoint unreachable,
//     refused by the stunnel_tcp_proxy proxy (stunnel logs only "CONNECT request rejected",
//     so a wrong proxy password and a port the proxy does not allow read the same), TLS
//     refused, rsync authentication, rsync exit codes; each failed PVC gets its own line in
//     status.errors and the DVMP keeps the message and the log tail. When every failure is an
//     unreachable endpoint, the durable SourceToDestinationNetworkError says so. An attempt
//     that exited 0 but moved nothing of a volume holding data, or printed no statistics,
//     fails too (transfer.CheckSucceeded): a success must be believable. Any failed PVC
//     fails the DVM with a Critical Failed condition (what MigMigration reads), but the other
//     PVCs still run to their end.
//   - Retries: up to the back-off limit (rsync_backoff_limit when it differs from its default,
//     else spec.backOffLimit, else 20), each attempt a new pod; --partial lets an attempt
//     resume the file the previous one was copying. There is no delay between attempts besides
//     the poll. Refused credentials (proxy, TLS, rsync password) and an untrustworthy success
//     are not retried: another attempt would meet the same answer.
//
// # Implementation considerations
//
//   - Endpoints (rsync_endpoint_type): Route (MTC's default) is a ClusterIP Service behind a
//     passthrough Route (host <server>-<namespace>.<cluster_subdomain>, or the router's
//     default), owned by the Service so that it goes with it; clients connect to the admitted
//     host on 443 and name it by SNI, and the router never decrypts (the certificates still
//     authenticate both ends). Route on a cluster without the Route API falls back to NodePort.
//     NodePort's address is the InternalIP (else ExternalIP) of the first Ready node by name;
//     ClusterIP works within one cluster. Routes are unstructured objects: four fields of one
//     kind do not justify OpenShift's API module.
//   - rsync options come from the MigrationController's rsync_opt_* settings (extra options
//     that fail validation are left out). The transfer image is rsync_transfer_image, else
//     settings.DefaultTransferImage (hack/images/transfer). The local test clusters ignore
//     images (their process nodes run the host's rsync and stunnel).
//   - Destination PVCs request the larger of the source PVC's request and capacity. With
//     enable_dvm_pv_resizing, a source whose usage plus pv_resizing_threshold exceeds 100 %
//     grows (MTC's rule, pkg/volumestats), measured from the kubelets' /stats/summary through
//     the node proxy for PVCs a running pod mounts; the others keep their size and are named in
//     PvUsageAnalysisFailed (MTC ran df by exec in a node-agent pod). Existing destination PVCs
//     are kept as they are, which is what makes a second DVM (stage after stage, then cutover)
//     copy only what changed, but only when a DVM of the same plan (migrated-by-migplan) or
//     this standalone DVM (migrated-by-directvolumemigration) created them, or the DVM carries
//     ReuseExistingDestinationPVCsAnnotation (a migration copies it from its MigPlan or
//     itself). Any other existing PVC fails the DVM at CreateDestinationPVCs with the durable
//     DestinationPVCsNotOwned naming it, before a transfer pod exists: rsync --delete would
//     silently replace someone else's data, and a rollback would not even remove it. MTC
//     copied into any PVC of the same name. A second standalone DVM into the PVCs of a first
//     one must opt in too (they carry the first one's label).
//   - createDestinationNamespaces is not consulted (as in MTC): missing destination namespaces
//     are always created, with the source namespace's labels and annotations.
//   - Who transfer pods run as (identity.go): root with a few capabilities (owners, modes and
//     exact symlinks kept; the daemon chroots) only when the DVM asks (runAsRoot, copied from
//     the MigMigration) and the pod's namespace is labelled pod-security.kubernetes.io/enforce=
//     privileged; otherwise pods meet the restricted level as runAsUser/runAsGroup (default
//     transfer.DefaultNonRootID) with that group as fsGroup. Every non-root transfer leaves
//     the durable RsyncServerPodsRunningAsNonRoot warning saying what is lost (owners, device
//     files, absolute symlink targets: a non-chrooted daemon rewrites them): MTC's message
//     naming the namespaces when root was asked for and refused, and otherwise how to get root.
//     MTC warned only in the first case, so a default (non-root) copy that lost every owner
//     looked like a plain success. A MigMigration repeats the warning (SucceededWithWarnings).
//   - stunnel_tcp_proxy: with a proxy password, the clients' stunnel configurations are kept
//     in their Secret, not their ConfigMap. A proxy URL that does not parse, or whose parts
//     hold control characters (a percent-encoded line break in the password would add
//     options to the stunnel configuration), blocks the DVM at validation with a Critical
//     InvalidTransferSettings condition whose message never shows the password; so do
//     namespaces and PVC names that are not DNS names (validate.go), which reach the
//     configuration files and RSYNC_CONNECT_PROG.
//   - KubeVirt (VM disks, live migration, blockrsync) is not supported; the VM phases of MTC's
//     itinerary are left out rather than kept as no-ops, because a DVM never persisted them
//     without VMs.
//   - Two DVMs never copy into one destination PVC at once (conflicts.go): a DVM that has not
//     started waits (Critical Postponed, rechecked every 30 s) for another unfinished DVM of the
//     namespace with a shared destination PVC on the same cluster, as migrations of a plan wait
//     for each other: one that runs or is being deleted whatever its age, else the older one
//     unless validation blocks it. Clusters are one when they are the same MigCluster, both the
//     host, or two MigClusters for the same API server (mapping.IntraCluster), also for the
//     copy-onto-itself check; a remote MigCluster that points at the host's own API server is
//     not recognised (the host's address is not known here).
//   - A Completed DVM is not reconciled again, except for its deletion.
package directvolumemigration
