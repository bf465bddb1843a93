// Package claimswap points an application's workloads at other PersistentVolumeClaims of the
// same namespace: the last step of a storage conversion within one cluster, where the data was
// copied into new claims on another storage class (MTC's SwapPVCReferences), and the step of
// its rollback that points them back.
//
// What it rewrites, per kind:
//   - Deployments, DaemonSets, ReplicaSets that nothing controls and CronJobs: the claim
//     names in the pod template, with a patch.
//   - StatefulSets: the claim names in the pod template and the volumeClaimTemplates, whose
//     names give the claims theirs ("<template>-<set>-<ordinal>"). The templates cannot
//     change in place, so the set is recreated. The renamed set is first saved as a temporary
//     StatefulSet ("<set>-new", zero replicas, annotated with the original's name) before the
//     original is deleted (orphaning what it owns), then the original is created again from
//     it and the temporary deleted. A restart at any point finds one of the two and goes on;
//     nothing depends on memory.
//   - Jobs are not rewritten: a Job's pod template cannot change and recreating a Job runs
//     it again. They are reported, so the user sees what still mounts the old claims.
//   - DeploymentConfigs and VirtualMachines, which MTC also rewrote, are not: the local
//     clusters serve neither API, so the rewrite could not be tested.
//
// The template renames of a StatefulSet are derived from the claim renames: the claim
// "data-web-0" renamed "data-mig-abcd-web-0" renames the template "data" to "data-mig-abcd".
// A template is renamed only if every existing claim of it is renamed the same way, so a set
// never starts with some replicas on empty new claims.
//
// Swap is idempotent and works in either direction: a rollback passes the reversed renames.
// It expects the workloads to be quiesced (no pods), as the migration's itinerary guarantees.
package claimswap
