// Package velerodeploy builds the Velero server Deployment that the operator runs when the
// MigrationController in force sets migration_velero, as MTC's operator installs Velero on each
// cluster where it runs.
//
// # Design
//
//   - The Deployment is Velero's own: deployment.yaml is rendered from the pinned release's
//     pkg/install (the code behind `velero install`) by hack/tools/velero/manifests, and this
//     package only sets the namespace, the images of the MigrationController
//     (velero_image_fqin, velero_aws_plugin_fqin) with Velero's pull-policy rule, and Ferry's
//     labels. Importing pkg/install here instead would pull Velero's plugin framework and error
//     reporting into the operator binary; a generated template, checked fresh by make verify-gen,
//     costs nothing at run time.
//   - What is cluster-wide or grants power (Velero's CRDs, its ServiceAccount bound to
//     cluster-admin, and the operator's right to create Deployments in its namespace) is not
//     created by the operator: it ships as the kustomize component config/velero, which an admin
//     applies knowingly. The operator can then only roll out the Deployment it is told to, and
//     a cluster without config/velero gets a condition saying what to apply, never an
//     escalation.
//   - Credentials are per BackupStorageLocation (Ferry's MigStorage writes them), so the server
//     mounts no cloud-credentials Secret.
//   - Upgrades are server-side applies of the new template: a Ferry release with another Velero
//     pin rolls the Deployment out; fields Ferry does not set (replicas scaled by an admin,
//     annotations of other tools) stay theirs.
package velerodeploy
