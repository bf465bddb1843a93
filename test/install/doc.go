// Package install deploys Ferry onto the local test clusters the way a user installs it, for
// the end-to-end suites and the demo:
//
//   - the operator: the kustomize build of config/default (kustomize's own library, which is
//     what `kustomize build` runs), server-side applied to the host cluster (what `kubectl
//     apply --server-side` does), so that the operator runs as the migration-controller pod
//     of the shipped Deployment, under the shipped ServiceAccount and RBAC, with the
//     ServiceAccount's projected token. Any permission the operator lacks fails a test;
//   - a remote cluster's access: config/rbac/remote/source (or destination) applied to that
//     cluster, and a token of the ServiceAccount it binds, which goes into the MigCluster's
//     Secret as the README tells users to do.
//
// # Implementation considerations
//
//   - The operator runs from its real image: OperatorImage builds it from the tree with
//     hack/images (what `make images` builds; once per test binary), PushOperatorImage
//     pushes it to the clusters' internal registries (test/registry), and Deploy applies
//     config/default with its image set to that digest as `make deploy IMG=...` sets it (a
//     kustomization over config/default with an images entry). The process node (test/node)
//     pulls it and runs the image's /manager from the image's own unpacked root file system,
//     as its USER (nonroot), under the shipped ServiceAccount.
//   - Nothing of config/ is patched for the tests: the leader-election lease, the probes and
//     the security context are the shipped ones. So a killed operator's successor waits for
//     the lease to expire (up to 15 s), as it would on a real cluster.
//   - migration_velero is tested as an admin uses it (TestDeployVelero): config/default and
//     config/velero applied, the Velero and AWS plugin images built by hack/images from the
//     pinned release pushed to the registry and named on the MigrationController; the
//     operator's Deployment of Velero then runs /velero server from its image, and that Velero
//     validates a storage location on the S3 server and completes a Backup.
//   - Operator.Kill sends SIGKILL to the container's process, as an OOM kill or a node
//     failure would; the node restarts it (restartPolicy Always).
package install
