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
//   - There are no images here: the process node (test/node) runs the operator's container
//     from the image's entrypoint and user, which NodeImages reads from the Dockerfile that
//     builds the image (ENTRYPOINT /manager becomes the built manager binary, USER its uid).
//   - Nothing of config/ is patched for the tests: the leader-election lease, the probes and
//     the security context are the shipped ones. So a killed operator's successor waits for
//     the lease to expire (up to 15 s), as it would on a real cluster.
//   - Operator.Kill sends SIGKILL to the container's process, as an OOM kill or a node
//     failure would; the node restarts it (restartPolicy Always).
package install
