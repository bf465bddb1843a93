package migmigration

import (
	"fmt"

	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Itinerary names, persisted in status.itinerary (MTC's names).
const (
	StageItinerary    = "Stage"
	FinalItinerary    = "Final"
	CancelItinerary   = "Cancel"
	FailedItinerary   = "Failed"
	RollbackItinerary = "Rollback"
)

// Phase names, persisted in status.phase: API, never renamed (testdata/phases.golden). An
// empty status.phase means "not started" and itinerary.Completed the end, as in MTC.
const (
	phaseStarted                                        = "Started"
	phaseStartRefresh                                   = "StartRefresh"
	phaseWaitForRefresh                                 = "WaitForRefresh"
	phaseCleanStaleAnnotations                          = "CleanStaleAnnotations"
	phaseCleanStaleResticCRs                            = "CleanStaleResticCRs"
	phaseCleanStaleVeleroCRs                            = "CleanStaleVeleroCRs"
	phaseRestartVelero                                  = "RestartVelero"
	phaseCleanStaleStagePods                            = "CleanStaleStagePods"
	phaseWaitForStaleStagePodsTerminated                = "WaitForStaleStagePodsTerminated"
	phaseCreateRegistries                               = "CreateRegistries"
	phaseWaitForVeleroReady                             = "WaitForVeleroReady"
	phaseWaitForRegistriesReady                         = "WaitForRegistriesReady"
	phaseEnsureCloudSecretPropagated                    = "EnsureCloudSecretPropagated"
	phasePreBackupHooks                                 = "PreBackupHooks"
	phaseCreateDirectImageMigration                     = "CreateDirectImageMigration"
	phaseEnsureInitialBackup                            = "EnsureInitialBackup"
	phaseInitialBackupCreated                           = "InitialBackupCreated"
	phaseQuiesceSourceApplications                      = "QuiesceSourceApplications"
	phaseEnsureSrcQuiesced                              = "EnsureSrcQuiesced"
	phaseEnsureStagePodsFromRunning                     = "EnsureStagePodsFromRunning"
	phaseEnsureStagePodsFromTemplates                   = "EnsureStagePodsFromTemplates"
	phaseEnsureStagePodsFromOrphanedPVCs                = "EnsureStagePodsFromOrphanedPVCs"
	phaseStagePodsCreated                               = "StagePodsCreated"
	phaseRestartRestic                                  = "RestartRestic"
	phaseAnnotateResources                              = "AnnotateResources"
	phaseWaitForResticReady                             = "WaitForResticReady"
	phaseCreateDirectVolumeMigrationStage               = "CreateDirectVolumeMigrationStage"
	phaseCreateDirectVolumeMigrationFinal               = "CreateDirectVolumeMigrationFinal"
	phaseCreateDirectVolumeMigrationWarm                = "CreateDirectVolumeMigrationWarm"
	phaseWaitForDirectVolumeMigrationWarmToComplete     = "WaitForDirectVolumeMigrationWarmToComplete"
	phaseEnsureStageBackup                              = "EnsureStageBackup"
	phaseStageBackupCreated                             = "StageBackupCreated"
	phaseEnsureStageBackupReplicated                    = "EnsureStageBackupReplicated"
	phaseEnsureStageRestore                             = "EnsureStageRestore"
	phaseStageRestoreCreated                            = "StageRestoreCreated"
	phaseEnsureStagePodsDeleted                         = "EnsureStagePodsDeleted"
	phaseEnsureStagePodsTerminated                      = "EnsureStagePodsTerminated"
	phaseEnsureAnnotationsDeleted                       = "EnsureAnnotationsDeleted"
	phaseWaitForDirectImageMigrationToComplete          = "WaitForDirectImageMigrationToComplete"
	phaseWaitForDirectVolumeMigrationToComplete         = "WaitForDirectVolumeMigrationToComplete"
	phasePostBackupHooks                                = "PostBackupHooks"
	phasePreRestoreHooks                                = "PreRestoreHooks"
	phaseEnsureInitialBackupReplicated                  = "EnsureInitialBackupReplicated"
	phaseEnsureFinalRestore                             = "EnsureFinalRestore"
	phaseFinalRestoreCreated                            = "FinalRestoreCreated"
	phaseUnQuiesceDestApplications                      = "UnQuiesceDestApplications"
	phasePostRestoreHooks                               = "PostRestoreHooks"
	phaseSwapPVCReferences                              = "SwapPVCReferences"
	phaseDeleteRegistries                               = "DeleteRegistries"
	phaseVerification                                   = "Verification"
	phaseCanceling                                      = "Canceling"
	phaseDeleteBackups                                  = "DeleteBackups"
	phaseDeleteRestores                                 = "DeleteRestores"
	phaseDeleteHookJobs                                 = "DeleteHookJobs"
	phaseDeleteDirectVolumeMigrationResources           = "DeleteDirectVolumeMigrationResources"
	phaseDeleteDirectImageMigrationResources            = "DeleteDirectImageMigrationResources"
	phaseUnQuiesceSrcApplications                       = "UnQuiesceSrcApplications"
	phaseCanceled                                       = "Canceled"
	phaseMigrationFailed                                = "MigrationFailed"
	phaseRollback                                       = "Rollback"
	phaseQuiesceDestinationApplications                 = "QuiesceDestinationApplications"
	phaseEnsureDestQuiesced                             = "EnsureDestQuiesced"
	phaseCreateDirectVolumeMigrationRollback            = "CreateDirectVolumeMigrationRollback"
	phaseWaitForDirectVolumeMigrationToRollbackComplete = "WaitForDirectVolumeMigrationToRollbackComplete"
	phaseDeleteMigrated                                 = "DeleteMigrated"
	phaseEnsureMigratedDeleted                          = "EnsureMigratedDeleted"
)

// Step names, shown in status.pipeline (MTC's names). The hook steps share their phase's name.
const (
	stepPrepare               = "Prepare"
	stepPreBackupHooks        = phasePreBackupHooks
	stepBackup                = "Backup"
	stepStageBackup           = "StageBackup"
	stepStageRestore          = "StageRestore"
	stepDirectImage           = "DirectImage"
	stepDirectVolume          = "DirectVolume"
	stepWarmSync              = "WarmSync" // Ferry's: the warm passes before quiesce
	stepPostBackupHooks       = phasePostBackupHooks
	stepPreRestoreHooks       = phasePreRestoreHooks
	stepRestore               = "Restore"
	stepPostRestoreHooks      = phasePostRestoreHooks
	stepCleanup               = "Cleanup"
	stepCleanupVelero         = "CleanupVelero"
	stepCleanupHelpers        = "CleanupHelpers"
	stepCleanupMigrated       = "CleanupMigrated"
	stepCleanupUnquiesce      = "CleanupUnquiesce"
	stepRollbackLiveMigration = "RollbackLiveMigration"
)

// Itinerary is the engine's itinerary for MigMigrations.
type Itinerary = itinerary.Itinerary[*Scope, Facts]

// Phase is one phase of a MigMigration itinerary.
type Phase = itinerary.Phase[*Scope, Facts]

// RunFunc is the step function of a MigMigration phase.
type RunFunc = itinerary.RunFunc[*Scope]

// Itineraries returns the MigMigration itineraries by name, each phase's step function taken
// from run. It panics if run has no step function for a phase or an itinerary is malformed:
// it is called once at start-up, and either is a programming error.
func Itineraries(run func(phase string) RunFunc) map[string]Itinerary {
	p := func(name, step string, when predicate) Phase {
		return Phase{Name: name, Step: step, When: when, Run: run(name), Timeout: phaseTimeouts[name], Watch: watchedPhases[name]}
	}
	final := finalItinerary(p)
	out := map[string]Itinerary{
		StageItinerary:    stageItinerary(final),
		FinalItinerary:    final,
		CancelItinerary:   cancelItinerary(p),
		FailedItinerary:   failedItinerary(p),
		RollbackItinerary: rollbackItinerary(p),
	}
	for name, it := range out {
		if err := it.Validate(); err != nil {
			panic(fmt.Sprintf("migmigration: itinerary %s: %v", name, err))
		}
	}
	return out
}

// phaseFunc builds a phase with its step function.
type phaseFunc func(name, step string, when predicate) Phase

// finalItinerary migrates the applications: MTC's Final with the DVM created after quiesce,
// preceded, with warm sync, by DVMs that copy while the applications still run.
func finalItinerary(p phaseFunc) Itinerary {
	return Itinerary{Name: FinalItinerary, Phases: []Phase{
		p(phaseStarted, stepPrepare, nil),
		p(phaseStartRefresh, stepPrepare, nil),
		p(phaseWaitForRefresh, stepPrepare, nil),
		p(phaseCleanStaleAnnotations, stepPrepare, nil),
		p(phaseCleanStaleResticCRs, stepPrepare, nil),
		p(phaseCleanStaleVeleroCRs, stepPrepare, nil),
		p(phaseRestartVelero, stepPrepare, nil),
		p(phaseCleanStaleStagePods, stepPrepare, nil),
		p(phaseWaitForStaleStagePodsTerminated, stepPrepare, nil),
		p(phaseCreateRegistries, stepPrepare, viaRegistries),
		p(phaseWaitForVeleroReady, stepPrepare, not(storageConversion)),
		p(phaseWaitForRegistriesReady, stepPrepare, viaRegistries),
		p(phaseEnsureCloudSecretPropagated, stepPrepare, usesVelero),
		p(phasePreBackupHooks, stepPreBackupHooks, preBackupHooks),
		p(phaseCreateDirectImageMigration, stepBackup, withDIM),
		p(phaseEnsureInitialBackup, stepBackup, nil),
		p(phaseInitialBackupCreated, stepBackup, nil),
		p(phaseCreateDirectVolumeMigrationWarm, stepWarmSync, warmSync),
		p(phaseWaitForDirectVolumeMigrationWarmToComplete, stepWarmSync, warmSync),
		p(phaseQuiesceSourceApplications, stepStageBackup, quiesce),
		p(phaseEnsureSrcQuiesced, stepStageBackup, quiesce),
		p(phaseEnsureStagePodsFromRunning, stepStageBackup, withStagePods),
		p(phaseEnsureStagePodsFromTemplates, stepStageBackup, withStagePods),
		p(phaseEnsureStagePodsFromOrphanedPVCs, stepStageBackup, withStagePods),
		p(phaseStagePodsCreated, stepStageBackup, hasStagePods),
		p(phaseRestartRestic, stepStageBackup, hasStagePods),
		p(phaseAnnotateResources, stepStageBackup, hasStageBackup),
		p(phaseWaitForResticReady, stepStageBackup, resticReady),
		p(phaseCreateDirectVolumeMigrationStage, stepStageBackup, dvmStage),
		p(phaseCreateDirectVolumeMigrationFinal, stepStageBackup, dvmCutover),
		p(phaseEnsureStageBackup, stepStageBackup, hasStageBackup),
		p(phaseStageBackupCreated, stepStageBackup, hasStageBackup),
		p(phaseEnsureStageBackupReplicated, stepStageBackup, hasStageBackup),
		p(phaseEnsureStageRestore, stepStageRestore, hasStageBackup),
		p(phaseStageRestoreCreated, stepStageRestore, hasStageBackup),
		p(phaseEnsureStagePodsDeleted, stepStageRestore, hasStagePods),
		p(phaseEnsureStagePodsTerminated, stepStageRestore, hasStagePods),
		p(phaseEnsureAnnotationsDeleted, stepStageRestore, hasStageBackup),
		p(phaseWaitForDirectImageMigrationToComplete, stepDirectImage, withDIM),
		p(phaseWaitForDirectVolumeMigrationToComplete, stepDirectVolume, withDVM),
		p(phasePostBackupHooks, stepPostBackupHooks, postBackupHooks),
		p(phasePreRestoreHooks, stepPreRestoreHooks, preRestoreHooks),
		p(phaseEnsureInitialBackupReplicated, stepRestore, nil),
		p(phaseEnsureFinalRestore, stepRestore, nil),
		p(phaseFinalRestoreCreated, stepRestore, nil),
		p(phaseUnQuiesceDestApplications, stepRestore, nil),
		p(phasePostRestoreHooks, stepPostRestoreHooks, postRestoreHooks),
		p(phaseSwapPVCReferences, stepCleanup, swapPVCs),
		p(phaseDeleteRegistries, stepCleanup, nil),
		p(phaseVerification, stepCleanup, hasVerify),
	}}
}

// stagePhases are the phases of Final that Stage runs, in Final's order: no hooks, no initial
// backup, no final restore, no verification.
var stagePhases = []string{
	phaseStarted, phaseStartRefresh, phaseWaitForRefresh,
	phaseCleanStaleAnnotations, phaseCleanStaleResticCRs, phaseCleanStaleVeleroCRs, phaseRestartVelero,
	phaseCleanStaleStagePods, phaseWaitForStaleStagePodsTerminated,
	phaseCreateRegistries, phaseWaitForVeleroReady, phaseWaitForRegistriesReady, phaseEnsureCloudSecretPropagated,
	phaseCreateDirectImageMigration,
	phaseQuiesceSourceApplications, phaseEnsureSrcQuiesced,
	phaseEnsureStagePodsFromRunning, phaseEnsureStagePodsFromTemplates, phaseEnsureStagePodsFromOrphanedPVCs,
	phaseStagePodsCreated, phaseRestartRestic, phaseAnnotateResources, phaseWaitForResticReady,
	phaseCreateDirectVolumeMigrationStage, phaseCreateDirectVolumeMigrationFinal,
	phaseEnsureStageBackup, phaseStageBackupCreated, phaseEnsureStageBackupReplicated,
	phaseEnsureStageRestore, phaseStageRestoreCreated,
	phaseEnsureStagePodsDeleted, phaseEnsureStagePodsTerminated, phaseEnsureAnnotationsDeleted,
	phaseWaitForDirectImageMigrationToComplete, phaseWaitForDirectVolumeMigrationToComplete,
	phaseSwapPVCReferences, phaseDeleteRegistries,
}

// stageItinerary copies PV data (and images) while the applications run; it is also the
// itinerary of state migrations. Stage has no Backup step, so its DIM is created in
// StageBackup, as in MTC.
func stageItinerary(final Itinerary) Itinerary {
	return itinerary.Subset(final, StageItinerary, stagePhases...).
		WithStep(stepStageBackup, phaseCreateDirectImageMigration)
}

// cancelItinerary undoes what a canceled migration created and starts the source again.
func cancelItinerary(p phaseFunc) Itinerary {
	return Itinerary{Name: CancelItinerary, Phases: []Phase{
		p(phaseCanceling, stepCleanupVelero, nil),
		p(phaseDeleteBackups, stepCleanupVelero, notRollback),
		p(phaseDeleteRestores, stepCleanupVelero, notRollback),
		p(phaseDeleteRegistries, stepCleanupHelpers, notRollback),
		p(phaseDeleteHookJobs, stepCleanupHelpers, notRollback),
		p(phaseDeleteDirectVolumeMigrationResources, stepCleanupHelpers, allOf(directVolume, notRollback)),
		p(phaseDeleteDirectImageMigrationResources, stepCleanupHelpers, allOf(directImage, notRollback)),
		p(phaseEnsureStagePodsDeleted, stepCleanupHelpers, allOf(hasStagePods, notRollback)),
		p(phaseEnsureAnnotationsDeleted, stepCleanupHelpers, cancelAnnotations),
		p(phaseUnQuiesceSrcApplications, stepCleanupUnquiesce, unquiesceOnCancel),
		p(phaseCanceled, stepCleanup, nil),
	}}
}

// failedItinerary cleans up after a failed migration and starts the source again. MTC listed
// cleanup phases but jumped from MigrationFailed to Completed, and left the source quiesced.
// Velero objects, hook jobs and the DVM and DIM are kept: they explain the failure.
func failedItinerary(p phaseFunc) Itinerary {
	return Itinerary{Name: FailedItinerary, Phases: []Phase{
		p(phaseMigrationFailed, stepCleanupHelpers, nil),
		p(phaseDeleteRegistries, stepCleanupHelpers, nil),
		p(phaseEnsureStagePodsDeleted, stepCleanupHelpers, hasStagePods),
		p(phaseEnsureStagePodsTerminated, stepCleanupHelpers, hasStagePods),
		p(phaseEnsureAnnotationsDeleted, stepCleanupHelpers, hasStageBackup),
		p(phaseUnQuiesceSrcApplications, stepCleanupUnquiesce, unquiesceOnFailure),
	}}
}

// rollbackItinerary removes what the plan's migrations created on the destination and starts
// the source again (MTC's Rollback, plus DeleteHookJobs: the hook Jobs and ConfigMaps of the
// plan's migrations go too).
func rollbackItinerary(p phaseFunc) Itinerary {
	return Itinerary{Name: RollbackItinerary, Phases: []Phase{
		p(phaseRollback, stepCleanupVelero, nil),
		p(phaseDeleteBackups, stepCleanupVelero, nil),
		p(phaseDeleteRestores, stepCleanupVelero, nil),
		p(phaseDeleteRegistries, stepCleanupHelpers, nil),
		p(phaseDeleteHookJobs, stepCleanupHelpers, nil),
		p(phaseEnsureStagePodsDeleted, stepCleanupHelpers, nil),
		p(phaseEnsureAnnotationsDeleted, stepCleanupHelpers, rollbackAnnotations),
		p(phaseQuiesceDestinationApplications, stepCleanupMigrated, withDVM),
		p(phaseEnsureDestQuiesced, stepCleanupMigrated, withDVM),
		p(phaseSwapPVCReferences, stepCleanupMigrated, storageConversion),
		p(phaseCreateDirectVolumeMigrationRollback, stepRollbackLiveMigration, rollbackLiveVMs),
		p(phaseWaitForDirectVolumeMigrationToRollbackComplete, stepRollbackLiveMigration, rollbackLiveVMs),
		p(phaseDeleteMigrated, stepCleanupMigrated, nil),
		p(phaseEnsureMigratedDeleted, stepCleanupMigrated, nil),
		p(phaseUnQuiesceSrcApplications, stepCleanupUnquiesce, nil),
	}}
}
