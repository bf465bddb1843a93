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
// # What is not covered
//
// The EgressNetworkPolicy of the documentation belongs to network.openshift.io, OpenShift
// SDN's API, which a plain kube-apiserver does not serve: its file is kept and the test only
// checks that it decodes and is refused because the kind is unknown to the server. Ansible
// playbooks and command output shown in the documentation are not manifests and are not
// kept. Whether a controller then accepts an object (for example the documentation's
// "incorrect" namespace mapping) is up to the controllers' own tests.
package compat
