// Package migrationcontroller reports, in each MigrationController's status, what Ferry makes
// of its settings: Running (Successful) on the MigrationController in force, or NotInForce on
// the others of the operator's namespace; InvalidSettings naming every value that did not
// parse and whose default applies instead; UnsupportedSettings naming every setting Ferry does
// not act on, with why. It sets status.observedGeneration.
//
// # Implementation considerations
//
//   - The settings themselves are read where they are used (pkg/settings.Reader, on every
//     reconcile of every controller), so a change applies at once without this controller;
//     it only reports. The conditions are a pure function of the spec and of which
//     MigrationController is in force (conditionsFor in status.go).
//   - MTC's operator deployed its controller, console and Velero from this CR. Ferry is
//     installed by kustomize or OLM, so the switches for those parts (migration_controller,
//     migration_ui, migration_velero) and the controller's own resources are reported as not
//     acted on rather than half-honoured.
//   - Only the operator's namespace is watched (the manager's cache is limited to it): a
//     MigrationController elsewhere is never read, as in MTC.
package migrationcontroller
