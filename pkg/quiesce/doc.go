// Package quiesce stops and restarts the applications of a set of namespaces on one cluster,
// as MTC's QuiesceSourceApplications, EnsureSrcQuiesced and UnQuiesce*Applications phases do:
// it owns the decision of what to change on each workload, the bookkeeping annotations that
// say how to undo it, and the list of pods still running after a quiesce.
//
// Quiesce, per kind (MTC's annotations, so MTC and Ferry undo each other's work, and objects
// restored by Velero from a quiesced source come back up on the destination):
//
//   - Deployment, DeploymentConfig (only when the cluster serves apps.openshift.io/v1):
//     AnnotationReplicas and AnnotationPaused, replicas 0, paused false.
//   - StatefulSet, ReplicaSet and ReplicationController without ownerReferences:
//     AnnotationReplicas, replicas 0.
//   - DaemonSet: AnnotationNodeSelector holds the original nodeSelector as JSON; the
//     nodeSelector gets NodeSelectorKey=true, which no node matches.
//   - Job: AnnotationReplicas holds spec.parallelism, which becomes 0.
//   - CronJob: AnnotationSuspend=true and spec.suspend=true, only for CronJobs that were
//     running; a CronJob the user suspended is never marked, so Unquiesce never resumes it.
//
// Unquiesce restores only objects carrying the annotations and removes them. With
// Options.Owner (the migration controller passes its plan's UID), Quiesce also records the
// owner in AnnotationQuiescedBy (Ferry's), and Unquiesce leaves objects recorded for another
// owner alone.
//
// # Implementation considerations
//
//   - Idempotent by construction: a value already recorded is never overwritten, so a second
//     Quiesce (a retried phase, a second migration) cannot record the 0 or the suspension the
//     first one wrote. MTC compared pointers (`Parallelism == &zero`, `Suspend ==
//     ptr.To(true)`), which never matched, and re-saved those values; its un-quiesce then
//     "restored" 0, or resumed CronJobs the user had suspended. A workload already at 0 with
//     nothing recorded is left alone: there is nothing to stop and nothing to restore.
//   - A replica count or Job parallelism is restored only while it is still 0: a workload the
//     user scaled while quiesced keeps the user's count (MTC did this for DeploymentConfigs
//     only). The annotation is removed either way.
//   - Every write is a JSON merge patch of only the fields the decision changed, carrying the
//     resourceVersion it was computed from. Other writers' edits to other fields are kept, and
//     a concurrent edit makes the patch conflict instead of recording a stale value; the
//     object is then re-read and the decision re-made (up to maxConflicts times).
//   - The decisions are pure functions on one object (decide.go) and are tested without a
//     cluster; the API server is needed only to show the controllers react as expected.
//   - ReplicaSets and ReplicationControllers with an owner are left to their owner
//     (Deployment, DeploymentConfig or another controller that would scale them back).
//   - One object failing does not stop the others: Quiesce and Unquiesce try every object in
//     scope, join the errors (each naming kind and namespace/name) and report what changed.
//     The migration controller re-runs the phase, which is safe because both are idempotent.
//   - OnlyPVCs (several plans share a namespace) selects workloads whose pod template mounts
//     a selected PVC, including StatefulSets whose volumeClaimTemplates produced one
//     (<template>-<name>-<ordinal>). Namespaces without a selected PVC are skipped. Unquiesce
//     uses the same scope, so workloads another plan quiesced stay down.
//   - Scope alone is not enough: it is recomputed at un-quiesce time, and once the other plan
//     is closed (its cutover done, its source meant to stay down) it is the whole namespace
//     again. The owner annotation is written in the same patch as the first bookkeeping
//     annotation and removed with the last, so it always describes them; a workload already
//     quiesced keeps its first owner (a second plan's Quiesce records nothing). Objects
//     without it (MTC's, or quiesced without an owner) are restored by any Unquiesce, as MTC
//     did.
//   - Remaining counts pods owned by a ReplicationController, StatefulSet, ReplicaSet,
//     DaemonSet or Job that are not Succeeded/Failed/Unknown; pods being deleted still count
//     until they are gone. With OnlyPVCs it counts only pods mounting a selected PVC, i.e. the
//     pods of what Quiesce stopped. MTC instead ignored pods mounting any unselected PVC, which
//     both waited forever on pods of workloads without PVCs (never quiesced in that case) and
//     ignored quiesced pods that also mounted an unselected PVC while they still wrote to a
//     selected one.
//   - Plain List per namespace and kind, no paging: a namespace's workloads fit in memory,
//     and quiesce runs once per migration.
//   - Not handled here: KubeVirt VirtualMachines (stopped through a subresource, not a field)
//     and batch/v1beta1 CronJobs of clusters older than Kubernetes 1.21.
package quiesce
