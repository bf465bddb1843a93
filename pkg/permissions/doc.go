// Package permissions lists, as data, every API permission Ferry uses on a migration's clusters,
// in the ClusterRoles it ships (config/rbac/remote, generated from this package by
// hack/gen-rbac): what a source cluster must allow (ferry-remote-source), what a destination
// must allow (ferry-remote-destination), what a rollback needs to delete whatever a restore
// created (ferry-rollback, aggregated), and what PV resizing reads from kubelets
// (ferry-pv-resizing, opt-in). The host cluster binds the operator's ServiceAccount to all but
// the last (config/rbac), since it is one side of most migrations; a remote cluster's token is
// bound to the role of the side it plays.
//
// The MigCluster controller checks a cluster's token against these same rules with
// SelfSubjectAccessReviews (Missing) and names each permission that is missing, so a role and
// its check cannot drift apart; a unit test pins the generated YAML to the table.
//
// # Design trade-offs
//
//   - Kinds, not wildcards: each rule names the resources a step function touches, with the
//     verbs it uses (get, list and watch together: remote clients may be informer-backed when
//     enable_cached_client is on). The one wildcard is the rollback's: a rollback deletes the
//     objects a Velero restore created, which may be of any namespaced kind; it is granted by
//     an aggregated ClusterRole (ferry-rollback) whose default member, ferry-rollback-all,
//     grants every kind, and which an administrator may narrow by replacing that member with
//     roles labelled AggregateToRollbackLabel for the kinds their applications use.
//   - Secrets are read and written in any namespace: transfer credentials live next to the
//     volumes they move, Velero's credentials in Velero's namespace, proxy Secrets wherever
//     the plan's namespaces are. Restricting them to named objects would need one Role per
//     namespace, created by someone with more rights than the token itself.
//   - nodes/proxy (kubelet volume statistics for PV resizing) exposes the whole kubelet API,
//     so it is not in the default roles: PV resizing is off by default, and an administrator
//     who turns it on binds ferry-pv-resizing.
package permissions
