// Package migenv starts everything a migration needs on this machine, for the migration
// tests, the migration benchmark and the demo: a source and a destination cluster (real
// control planes with kube-controller-manager and kube-scheduler, and a process node each, so
// pods run), an internal image registry for each cluster (test/registry: the ImageStream API
// and a registry that checks the cluster's tokens and RBAC, whose images the cluster's node
// pulls), an S3 server with a bucket, a real Velero
// server for each cluster on that bucket, and the Ferry operator installed on the destination
// (the host cluster) from config/default as users install it (test/install): the
// migration-controller pod under its shipped ServiceAccount and RBAC. The source cluster is
// registered with a token bound only to config/rbac/remote/source's role, the storage with
// S3 keys, and all are Ready when Start returns.
//
// # Implementation considerations
//
//   - The operator runs as a pod of the destination's process node, so tests can kill it with
//     SIGKILL at any moment (KillOperator); the node restarts it, and its successor takes the
//     leader-election lease over once it expires, as on a real cluster. Options.HostProcess
//     (or FERRY_OPERATOR=process) runs it as a host process with an admin kubeconfig instead,
//     for debugging only: the shipped RBAC is then not exercised.
//   - The destination node forwards the source API server's, the S3 server's and both
//     registries' ports from its pods' loopback, where the MigCluster and MigStorage URLs
//     (127.0.0.1) point; the source node forwards its own registry's.
//   - Names for proxy tests (names.go): Go never proxies loopback addresses, so the source API
//     server also serves a certificate for SourceAPIHost (controlplane.WithNamedCertificate),
//     which the pods of both nodes resolve to their loopback forward of it, and the
//     destination's pods resolve StorageHost to their loopback forward of the S3 server (an
//     object store a noProxy entry exempts). No pod needs a DNS server for them.
//   - Registries: Env.SourceRegistry and Env.DestinationRegistry, started before the nodes
//     (each node resolves image-registry.openshift-image-registry.svc:5000/... through its
//     cluster's registry). The MigClusters' exposedRegistryPath is each registry's
//     127.0.0.1 address, their caBundle trusts its CA (fixtures.WithRegistries), so the
//     operator's registry probe and image copies verify the certificates.
//   - The operator image is built by Start with hack/images (the static manager, once per
//     test binary, Go's build cache keeping the compiled packages) from Options.Manager or
//     ./cmd/manager, and pushed to both registries (test/install.PushOperatorImage): the
//     destination's node runs the operator from it, both nodes the tunnel agents. Plain
//     `go test` works without a make step.
//   - Velero runs in the operator's namespace on both clusters (MTC's layout), its server as a
//     host process (test/velero) and its node-agent as the DaemonSet of pkg/velerodeploy on
//     each node (velero.StartNodeAgent), reading pod volumes from the node's kubelet layout;
//     the nodes run Velero's /velero and /velero-restore-helper from make velero's build
//     (velero.NodeCommands). The source's pods reach the S3 server too: its node-agent writes
//     indirect volume migrations' data into the replication repository.
//   - Stop tears down in reverse order and is safe after a failed Start.
package migenv
