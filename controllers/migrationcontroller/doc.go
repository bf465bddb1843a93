// Package migrationcontroller reconciles MigrationControllers. In each one's status it reports
// what Ferry makes of its settings: Running (Successful) on the MigrationController in force, or
// NotInForce on the others of the operator's namespace; InvalidSettings naming every value that
// did not parse and whose default applies instead; UnsupportedSettings naming every setting
// Ferry does not act on, with why. It sets status.observedGeneration. On the one in force it
// also runs Velero when migration_velero is true (velero.go), as MTC's operator does, and
// reports VeleroReady or VeleroNotReady (with why: config/velero missing, a rollout in
// progress with its pods' errors, a Velero it did not deploy).
//
// # Implementation considerations
//
//   - The settings themselves are read where they are used (pkg/settings.Reader, on every
//     reconcile of every controller), so a change applies at once without this controller;
//     it reports, and deploys Velero. The conditions are a pure function of the spec, of which
//     MigrationController is in force and of Velero's state (conditionsFor in status.go).
//   - Velero's Deployment is Velero's own (pkg/velerodeploy, rendered from `velero install`'s
//     code), applied server-side with the images in force, owned by the MigrationController (so
//     deleting it removes Velero) and labelled as Ferry's: a Velero installed otherwise is
//     never touched. Turning migration_velero off deletes only Ferry's. What needs more power
//     than rolling out one Deployment (Velero's CRDs, its cluster-admin ServiceAccount) ships
//     in config/velero for an admin to apply; the operator never grants it to itself.
//   - The Deployment, its ServiceAccount and pods are read uncached (APIReader) and a rollout
//     is polled every few seconds: an informer would cache every Deployment and pod of the
//     cluster for one object. A ready Velero is re-applied every few minutes to undo edits.
//   - MTC's operator also deployed its controller and console from this CR. Ferry's controllers
//     are in the operator itself: migration_controller: false leaves only this controller
//     running (pkg/operator restarts the operator when the switch changes). Ferry's
//     console is installed from config/console (not by the operator, which would need the
//     right to create Deployments and Services for it), and the operator's own resources are
//     its Deployment's, so migration_ui and mig_controller_* are reported as not acted on
//     rather than half-honoured.
//   - Only the operator's namespace is watched (the manager's cache is limited to it): a
//     MigrationController elsewhere is never read, as in MTC.
package migrationcontroller
