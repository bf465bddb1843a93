package migmigration

import "github.com/ferrymtc/ferry/pkg/itinerary"

// Facts are what the itineraries' predicates look at: plain booleans computed once per
// reconcile from the migration, its plan, the settings and what the controller observed. The
// comments give MTC's definition of each (mig-controller's phase flags); the controller must
// keep them.
//
// Facts are one snapshot for a whole call of itinerary.Run, which may run several phases. A
// fact must therefore not change because an earlier phase of the same itinerary ran (MTC's
// HasStagePods did: it was the StagePodsCreated condition, set by a phase just before the one
// it gated). Such a fact is derived from what the migration will do, or judged by the step
// function at run time.
type Facts struct {
	// Stage: spec.stage or spec.migrateState; the migration runs the Stage itinerary and takes
	// no initial backup.
	Stage bool
	// Rollback: spec.rollback.
	Rollback bool
	// Quiesce: spec.quiescePods.
	Quiesce bool
	// HasVerify: spec.verify.
	HasVerify bool

	// HasPVs: the plan has a PV whose action is not skip.
	HasPVs bool
	// DirectVolume: !plan.indirectVolumeMigration and the plan has a PV with action copy and
	// copyMethod filesystem or block (rsync through a DirectVolumeMigration).
	DirectVolume bool
	// IndirectVolume: plan.indirectVolumeMigration (PV data through Velero and stage pods).
	IndirectVolume bool
	// EnableVolume: persistentvolumes is not an excluded resource.
	EnableVolume bool
	// HasStageBackup: not StorageConversion, and (HasISs and IndirectImage, or HasPVs and
	// IndirectVolume, or a PV with action move or copyMethod snapshot).
	HasStageBackup bool
	// HasStagePods: stage pods may exist for this migration. MTC used the StagePodsCreated
	// condition; Ferry needs a fact that the stage-pod phases do not change (see Facts): the
	// itinerary creates stage pods (HasPVs and IndirectVolume) or the condition is set.
	HasStagePods bool

	// HasISs: the source namespaces hold at least one ImageStream.
	HasISs bool
	// DirectImage: !plan.indirectImageMigration (registry to registry through a
	// DirectImageMigration).
	DirectImage bool
	// IndirectImage: plan.indirectImageMigration (images through migration registries and the
	// replication repository).
	IndirectImage bool
	// EnableImage: imagestreams is not excluded, image copy is not disabled in the settings,
	// the migration is not a state migration, the plan is neither a state migration nor a
	// storage conversion, and the clusters differ.
	EnableImage bool

	// HasPreBackupHooks .. HasPostRestoreHooks: the plan has a hook for that phase.
	HasPreBackupHooks   bool
	HasPostBackupHooks  bool
	HasPreRestoreHooks  bool
	HasPostRestoreHooks bool

	// StorageConversion: the plan is intra-cluster, the migration is a state migration or a
	// rollback, and every namespace maps to itself.
	StorageConversion bool
	// LiveVMMigration: plan.liveMigrate (KubeVirt storage live migration).
	LiveVMMigration bool

	// WarmSync: enable_warm_sync (Ferry's setting, default true). Not an MTC flag: with it, a
	// cutover copies its volumes while the applications still run (see warmSync).
	WarmSync bool

	// DestUnquiesced: UnQuiesceDestApplications has run for this migration (the durable
	// DestinationApplicationsStarted condition; or, for a migration still in the itinerary that
	// ran it, its pipeline's Restore step completed), so the destination runs the
	// applications. Not an MTC flag: it keeps the Cancel and Failed itineraries from starting
	// the source applications as well. The pipeline alone cannot tell once another itinerary
	// took over: it completes the step a cancel interrupted.
	DestUnquiesced bool
}

// Predicates over one fact each, named after MTC's flags.
func stage(f Facts) bool             { return f.Stage }
func rollback(f Facts) bool          { return f.Rollback }
func quiesce(f Facts) bool           { return f.Quiesce }
func hasVerify(f Facts) bool         { return f.HasVerify }
func hasPVs(f Facts) bool            { return f.HasPVs }
func directVolume(f Facts) bool      { return f.DirectVolume }
func indirectVolume(f Facts) bool    { return f.IndirectVolume }
func enableVolume(f Facts) bool      { return f.EnableVolume }
func hasStageBackup(f Facts) bool    { return f.HasStageBackup }
func hasStagePods(f Facts) bool      { return f.HasStagePods }
func hasISs(f Facts) bool            { return f.HasISs }
func directImage(f Facts) bool       { return f.DirectImage }
func indirectImage(f Facts) bool     { return f.IndirectImage }
func enableImage(f Facts) bool       { return f.EnableImage }
func preBackupHooks(f Facts) bool    { return f.HasPreBackupHooks }
func postBackupHooks(f Facts) bool   { return f.HasPostBackupHooks }
func preRestoreHooks(f Facts) bool   { return f.HasPreRestoreHooks }
func postRestoreHooks(f Facts) bool  { return f.HasPostRestoreHooks }
func storageConversion(f Facts) bool { return f.StorageConversion }
func liveVMMigration(f Facts) bool   { return f.LiveVMMigration }
func destUnquiesced(f Facts) bool    { return f.DestUnquiesced }
func warmSyncEnabled(f Facts) bool   { return f.WarmSync }

type predicate = itinerary.Predicate[Facts]

// Combinators instantiated for Facts.
var (
	allOf = itinerary.All[Facts]
	anyOf = itinerary.Any[Facts]
	not   = itinerary.Not[Facts]
)

// Predicates named after what they gate.
var (
	// viaRegistries: images go through migration registries (CreateRegistries,
	// WaitForRegistriesReady).
	viaRegistries = allOf(indirectImage, enableImage, hasISs)
	// withDIM: images go through a DirectImageMigration.
	withDIM = allOf(directImage, enableImage)
	// withDVM: PV data goes through a DirectVolumeMigration.
	withDVM = allOf(directVolume, enableVolume)
	// dvmStage and dvmCutover split DVM creation by the DVM's migrationType: Stage while the
	// applications run, CutOver once they are quiesced.
	dvmStage   = allOf(withDVM, not(quiesce))
	dvmCutover = allOf(withDVM, quiesce)
	// warmSync: a cutover copies its volumes while the applications still run, before it
	// quiesces them, so that the DVM after quiesce copies only the last delta. Only when the
	// migration quiesces: without quiescePods the cutover's own DVM already copies while the
	// applications run and nothing waits on it, so a warm pass would only copy twice. Never
	// in a Stage (already a copy while the applications run) nor for KubeVirt live migration
	// (not an rsync copy); rollbacks run their own itinerary.
	warmSync = allOf(withDVM, quiesce, warmSyncEnabled, not(stage), not(rollback), not(liveVMMigration))
	// withStagePods: PV data goes through stage pods and Velero.
	withStagePods = allOf(hasPVs, indirectVolume)
	// resticReady: Velero's file-system backup must see the stage pods' mounts. MTC's Final
	// used any{HasPVs, HasStagePods}, its Stage all{...}; RestartRestic runs only with stage
	// pods, so there is nothing to wait for without them.
	resticReady = allOf(hasPVs, hasStagePods)
	// usesVelero: the migration creates Velero backups (Final always, Stage only for a stage
	// backup); EnsureCloudSecretPropagated is pointless otherwise.
	usesVelero = anyOf(not(stage), hasStageBackup)
	// swapPVCs: a quiesced storage conversion points the workloads at the new PVCs.
	swapPVCs = allOf(storageConversion, quiesce)
	// rollbackLiveVMs: a rollback moves live-migrated VM storage back with a DVM.
	rollbackLiveVMs = allOf(directVolume, enableVolume, liveVMMigration)
	// rollbackAnnotations: MTC's rollback cleans annotations when PVs or image streams moved.
	rollbackAnnotations = anyOf(hasPVs, hasISs)
	// notRollback: canceling a rollback skips the cleanup of what the rollback never created
	// (MTC jumps from Canceling to EnsureAnnotationsDeleted).
	notRollback = not(rollback)
	// cancelAnnotations: MTC's jump runs EnsureAnnotationsDeleted for a rollback whatever
	// HasStageBackup says.
	cancelAnnotations = anyOf(hasStageBackup, rollback)
	// unquiesceOnCancel: never start the source while the destination runs the applications.
	unquiesceOnCancel = not(destUnquiesced)
	// unquiesceOnFailure: a failed migration that quiesced the source starts it again, unless
	// the destination already runs the applications or the migration was a rollback (whose
	// own last phase starts the source; a half-done rollback is retried, not guessed at).
	unquiesceOnFailure = allOf(quiesce, not(rollback), not(destUnquiesced))
)
