// Package migmigration runs MigMigrations: it picks an itinerary (Stage, Final, Cancel, Failed
// or Rollback) and moves the migration through its phases with pkg/itinerary, reporting
// progress in MTC's status.phase, status.itinerary, status.pipeline and Running condition.
//
// A reconcile observes the migration, its plan and siblings on the host (observe.go),
// validates (validate.go: MTC's conditions, plus InvalidSpec/NotSupported for what this
// release cannot do), builds a Scope with clients of both clusters and the Facts
// (scope_build.go, facts_compute.go), runs the itinerary (run.go) and patches the status
// subresource once. Step functions live in steps_*.go, one small function per phase.
//
// # Controller considerations
//
//   - Nothing blocks: a step creates Velero work and returns; the next reconcile observes it
//     (Velero is polled twice a second, which keeps Ferry's own overhead per migration to a few
//     seconds; MTC polled every 3 s and ran one phase per reconcile).
//   - Crash safety: every object a migration creates has a deterministic name (a hash of the
//     migration's UID), recorded in status.references and persisted before the object is
//     created; creation tolerates AlreadyExists; every step is idempotent. The e2e suite
//     kills the operator at six points of a cutover and checks one Backup and one Restore.
//   - The host is read and written without the informer cache when it is a migration's
//     source or destination (Reconciler.HostDirect): a step reads back at once what it just
//     created, which a cache would not show yet. The migration itself is always read that way
//     (its status is the cursor), and its status is patched under optimistic locking
//     (conditions.PatchStatusLocked): a reconcile that read an older version fails with a
//     conflict and runs again, instead of putting back older conditions, references or
//     pipeline (a merge patch replaces lists whole). The status write has its own short
//     context, so a reconcile that used up its time still records what its steps did.
//   - Deletion (finalizer.go): a migration gets MigMigrationFinalizer before its first phase
//     runs. Deleting a started migration, or deleting or closing its plan, runs the Cancel
//     itinerary (source applications started again; Velero objects, DVMs and hook Jobs
//     deleted), then the finalizer goes; one that never started or has ended goes at once.
//     The plan owns its migrations (garbage collection deletes them with it), and the plan's
//     finalizer keeps the plan, its storage and so its migrations until none of them runs
//     (migplan's retire), whatever the propagation policy. A deleted migration whose plan,
//     clusters or storage are already gone cannot be canceled: it goes with a NotCanceled
//     warning event.
//   - Once started, a migration is no longer blocked by its plan (validate.go): NotReady (a
//     cluster flapping), a new conflicting plan, a closed plan, an ImageStream that appeared
//     would otherwise freeze it half-way, possibly quiesced, with Cancel and the Failed
//     itinerary blocked too (MTC blocked it). A cluster that cannot be reached fails the steps
//     that use it, retried with backoff; only a plan, cluster or storage that no longer exists
//     blocks. Time spent blocked is not counted against the current phase's timeout.
//   - Velero copies Backup records between clusters only on a one-minute tick; Ferry copies
//     the record of a completed Backup to the destination itself (veleroadapter.ReplicateBackup)
//     and accepts Velero's copy if it came first.
//   - Without the openshift-velero-plugin, Ferry labels what a final Restore created with
//     migrated-by-migmigration/migplan (found by Velero's restore-name label), keeping MTC's
//     contract: a rollback deletes by the plan's label. Only objects created after the Restore
//     itself are labelled (Velero adds its restore-name label to a ServiceAccount that existed,
//     merging the backed-up one into it), and a rollback deletes PersistentVolumes only when
//     they are bound to a claim in one of the plan's destination namespaces: a rollback never
//     deletes what existed before the migration.
//   - Cancel deletes only the canceled migration's Velero objects; Velero cannot delete a
//     Backup in progress, so Cancel waits for it and then deletes it with its data. Rollback
//     deletes every Velero object of the plan, as MTC does.
//   - Errors from step functions are retried with backoff; only a phase's Failed outcome or
//     its timeout fails the migration (MTC failed it on the first error).
//
// The itineraries are data (itineraries.go): an ordered list of phases, each with its step,
// a predicate over Facts (facts.go) and a step function looked up by phase name. The pipeline
// and the "Step: n/m" message are pure functions of the itinerary, the facts and the cursor
// (pipeline.go). Golden files in testdata/ pin the phase sequence of every itinerary for
// typical plans, and testdata/phases.golden every phase name ever persisted.
//
// # Implementation considerations
//
//   - Phase names are API. A name in testdata/phases.golden must stay resolvable: renaming or
//     removing a phase fails the tests, and `go test -update` only ever adds names. Removing
//     one on purpose means editing the golden file by hand and handling migrations persisted
//     in that phase.
//   - MTC's phase "" (Created) is not a phase: an empty status.phase still means "not started"
//     and the engine starts at the first phase that applies. Completed is the engine's end
//     marker, not a phase; so the Failed and Rollback pipelines no longer end with MTC's empty
//     Cleanup step (Cancel keeps it through its Canceled phase).
//   - Phases that MTC runs but that may have little to do in Ferry (RestartVelero,
//     CleanStaleResticCRs, RestartRestic) are kept under their names; their
//     step functions decide at run time whether there is work, as MTC's already did. A no-op
//     phase costs nothing now that several phases run per reconcile, while a removed name
//     would break tools that know MTC's phases.
//   - Stage is built from Final with itinerary.Subset, so a phase means the same thing in both
//     (same predicate, same step function) and Stage ⊂ Final holds by construction. Stage
//     therefore follows Final's order where MTC's Stage differed: WaitForVeleroReady,
//     WaitForRegistriesReady and EnsureCloudSecretPropagated run in Prepare, before the source
//     is quiesced; the DVM is created after the stage pods; stage pods and annotations are
//     removed right after the stage restore (step StageRestore, not Cleanup). Only
//     CreateDirectImageMigration changes step (StageBackup; Stage has no Backup step).
//   - Final creates its DirectVolumeMigration after QuiesceSourceApplications/EnsureSrcQuiesced,
//     never before (MTC's 2024 order created it before the initial backup, so rsync of
//     ordinary PVCs started while the applications still wrote to them). The DVM phase is
//     named after the DVM's migrationType: CreateDirectVolumeMigrationStage when the source is
//     not quiesced (the DVM runs as Stage), CreateDirectVolumeMigrationFinal when it is
//     (CutOver). One of the two applies, in Stage and Final alike; so a quiesced Stage shows
//     CreateDirectVolumeMigrationFinal, which MTC's Stage never did.
//   - Warm sync (Ferry's; enable_warm_sync, default true; warmsync.go, steps_warmsync.go):
//     a quiesced Final with DVM volumes first copies them while the applications still run
//     (step WarmSync: CreateDirectVolumeMigrationWarm, WaitForDirectVolumeMigrationWarmToComplete,
//     after the initial backup, before QuiesceSourceApplications), so that the DVM after
//     quiesce copies only what changed during the last pass: the downtime no longer grows
//     with what changed since the last stage. Each pass is a Stage DVM into the same
//     destination PVCs (named <migration>-dvmw<n>-<hash>, recorded in status.references with
//     role WarmDirectVolumeMigration before it is created; the references count the passes).
//     When a pass completes, its delta is read from its progress objects (rsync's transferred
//     file size and files) and nextWarmPass decides: stop when it changed little (32 MiB and
//     1,000 files) or its rsync ran at most 2 s, when it did not shrink by a quarter against
//     the pass before (the applications write as fast as a pass copies), or after 5 passes;
//     else record the next pass and follow it. Each pass gets a pipeline line and an event
//     ("Warm sync pass 2: 10.0 MiB in 3 files"). Without quiescePods there is no warm
//     sync: that cutover's own DVM already runs beside the applications and nothing waits on
//     it. A pass that fails critically fails the migration before anything was quiesced (the
//     final copy would meet the same failure with the applications down); Cancel deletes the
//     passes with the other DVMs (same label). Turning the setting off during a pass ends
//     warm sync after that pass.
//   - Storage conversion (a state migration of a plan whose source and destination are one
//     cluster, namespaces mapped to themselves; steps_swap.go, pkg/claimswap): the Stage
//     itinerary's DVM copies each claim into its "-mig-<suffix>" copy on the new class; with
//     quiescePods, SwapPVCReferences then points the workloads at the copies (StatefulSets
//     are recreated through a temporary set, so a restart at any moment finds one of the two),
//     labels the originals source-for-directvolumemigration and starts the applications,
//     since Stage has no un-quiesce phase. Rollback's SwapPVCReferences points them back before
//     DeleteMigrated deletes the copies. Such a plan needs no MigStorage (MTC's rule), so
//     WaitForVeleroReady is skipped; after a quiesced conversion the plan is treated as cut
//     over (HasFinalMigration) until a rollback: another copy would overwrite the claims the
//     applications now write to.
//   - The Failed itinerary really cleans up: MTC listed DeleteRegistries and
//     EnsureAnnotationsDeleted but jumped from MigrationFailed to Completed, and it left the
//     source quiesced until a rollback. Ferry deletes registries, stage pods and annotations
//     and runs UnQuiesceSrcApplications when the migration quiesced the source, except after
//     UnQuiesceDestApplications (Facts.DestUnquiesced): then the destination already runs the
//     applications, and starting the source too would run them twice. Velero backups and
//     restores, hook jobs and the DVM/DIM are kept because they explain the failure; the
//     failed rollback is not unquiesced (rerun the rollback). Cancel applies the same
//     DestUnquiesced guard to its UnQuiesceSrcApplications.
//   - Canceling a rollback skips, by predicate, what MTC skipped by jumping from Canceling to
//     EnsureAnnotationsDeleted.
//   - Indirect volume migration (steps_stagepods.go, steps_nodeagent.go, pkg/stagepod): one
//     stage pod per claim, named from (migration, namespace, claim), from the running pod that
//     mounts it (its node and security context), else a workload template, else on its own;
//     never the application's pods (see pkg/stagepod for why). AnnotateResources labels the
//     claims, their PVs, the namespaces and the stage pods' service accounts into the stage
//     backup, and labels the application pods that mount the claims
//     velero.io/exclude-from-backup (Velero takes every pod of a backed-up claim, selector or
//     not); EnsureAnnotationsDeleted removes only the exclusions it added. WaitForResticReady
//     waits for the node-agent DaemonSet on both clusters and says what is missing. Stage
//     pods are found by label, not references: CleanStaleStagePods and EnsureStagePodsDeleted
//     delete every stage pod of the plan's namespaces on both clusters, as MTC's did. The
//     stage backup and restore show each PodVolumeBackup's and PodVolumeRestore's bytes.
//   - WaitForResticReady applies with stage pods only (MTC's Final said any of HasPVs and
//     HasStagePods, its Stage all of them); EnsureCloudSecretPropagated applies when Velero is
//     used (always in Final, with a stage backup in Stage, as MTC's Stage).
//   - "Step: n/m" counts only the phases that apply (see pkg/itinerary); MTC counted positions
//     in the full list.
//   - Facts are a snapshot per reconcile (see Facts), so HasStagePods means "stage pods may
//     exist", not MTC's "the StagePodsCreated condition is set".
package migmigration
