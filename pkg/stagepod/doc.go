// Package stagepod builds MTC's stage pods: the pods that hold a migration's claims mounted
// while Velero's node-agent copies their data with a file-system backup (indirect volume
// migration), on the source for the stage backup and, restored by Velero, on the destination
// for the restore.
//
// # Design
//
//   - One stage pod per claim, never the application's own pods. MTC labelled running
//     application pods as stage pods and relied on its Velero plugin to swap their images on
//     restore; Ferry runs stock Velero, so a restored application pod would start the
//     application on the destination in the middle of a stage. A pod per claim also makes the
//     name a function of (migration, namespace, claim), so a crash between creating pods
//     never duplicates one, and the stage backup holds nothing but sleepers.
//   - A stage pod of a claim that a running pod mounts runs on that pod's node (a
//     ReadWriteOnce volume attaches to one node) with its security context and service
//     account, so that the node-agent sees the volume as the application left it; others
//     take the security context of the workload template that mounts the claim, else none,
//     and go where the scheduler puts them (a local PV's node affinity decides).
//   - The container sleeps in the transfer image (it has coreutils), with requests equal to
//     limits of 100m CPU and 128Mi memory, MTC's stage pod size. The pod carries Velero's
//     backup-volumes annotation itself: it exists only to be backed up.
package stagepod
