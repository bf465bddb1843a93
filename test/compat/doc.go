// Package compat guards Ferry's promise that every MTC manifest applies unchanged.
//
// Its tests start one real control plane (etcd and kube-apiserver with Ferry's and Velero's
// CRDs, see test/controlplane) and apply, server-side and with strict field validation, every
// manifest that the MTC documentation ("Advanced migration options": MigrationController
// settings, MigCluster, MigStorage, MigPlan, MigMigration, their Secrets and the NetworkPolicies
// for rsync pods) shows, kept in testdata/seed with one file per documented manifest, and
// every file of config/samples. Each object is then read back and every value the manifest
// sets (everything but metadata, plus metadata labels and annotations) must be stored
// unchanged: a field that the CRDs do not declare, prune, reshape or reject fails the test
// with the path of the field.
//
// # What "unchanged" covers
//
//   - Placeholders of the documentation (<host_cluster>, <sa_token>...) are filled with
//     concrete values, base64 where MTC expects base64. Where the documentation elides part
//     of a manifest ("...", "[...]"), the part is filled minimally and every field shown is
//     kept as shown; each file's header says what was filled. Spec fragments and `oc patch`
//     payloads are wrapped in the full object they belong to.
//   - MigrationController's spec preserves unknown fields, as MTC's Ansible operator did, so
//     for it strict validation only checks the fields Ferry declares (types and enums); the
//     read-back check still proves every value is kept, including the operator settings
//     Ferry does not use.
//   - A manifest's status, where one is shown, is written through the status subresource.
//   - Manifests with generateName and no name are created rather than applied.
//   - TestUnknownFieldIsCaught proves the checks bite: a MigPlan with an undeclared spec
//     field is refused by the apply (for a CRD, kube-apiserver refuses it while building the
//     typed patch, "field not declared in schema") and by a strict create (400), and when a
//     create without validation lets the server prune it, the read-back comparison names it.
//
// # Status
//
// TestSeedStatus starts a second control plane and runs Ferry's controllers on it (the
// operator's manager, pkg/operator) as the host cluster. It applies the seed manifests of MTC's
// kinds and their Secrets the same way, without the status a manifest shows (a controller's
// output), and checks that every object ends up with the conditions MTC's controllers write
// for the same input: each of them by type, status, category and reason, and no other. The
// expected conditions are derived from the MTC behaviour reference (mtc-behavior.md), each
// with the section it comes from. The seed's remote cluster URL and bucket credentials are placeholders, so the
// remote MigCluster, the MigStorage and everything built on them are not Ready: that is what
// is compared. The MigrationControllers, which share one name, are applied one after another
// as edits of one CR, each checked before the next.
//
// # What is not covered
//
// The EgressNetworkPolicy of the documentation belongs to network.openshift.io, OpenShift
// SDN's API, which a plain kube-apiserver does not serve: its file is kept and the test only
// checks that it decodes and is refused because the kind is unknown to the server. Ansible
// playbooks and command output shown in the documentation are not manifests and are not
// kept. Beyond the conditions of the seed objects above, whether a controller accepts an
// object and what it does with it is up to the controllers' own tests; running migrations are
// exercised end to end in test/migration.
package compat
