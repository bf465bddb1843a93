package migmigration

import (
	"context"
	"fmt"
	"time"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Polling intervals of waiting phases. Velero finishes small backups in about a second, so
// polling it often keeps Ferry's own overhead low; slower work is polled less often. The
// Velero and workload intervals are the longest: a phase polls sooner while its wait is
// young (itinerary.Poll).
const (
	pollVelero   = 500 * time.Millisecond
	pollWorkload = time.Second
	pollSlow     = 5 * time.Second
	// soon brings a step back right after its status is persisted (see Scope.record).
	soon = 50 * time.Millisecond
)

// phaseTimeouts bound the phases that wait for something outside Ferry's control.
var phaseTimeouts = map[string]time.Duration{
	phaseWaitForRefresh:              2 * time.Minute,
	phaseWaitForVeleroReady:          5 * time.Minute,
	phaseEnsureCloudSecretPropagated: 5 * time.Minute,
	phaseEnsureSrcQuiesced:           10 * time.Minute,
	phaseEnsureDestQuiesced:          10 * time.Minute,
	phaseEnsureMigratedDeleted:       10 * time.Minute,
	phaseSwapPVCReferences:           10 * time.Minute,
	phaseStagePodsCreated:            10 * time.Minute,
	phaseWaitForResticReady:          5 * time.Minute,
	phaseEnsureStagePodsTerminated:   5 * time.Minute,
	phaseVerification:                15 * time.Minute,
}

// stepFuncs maps every phase to its step function.
func (r *Reconciler) stepFuncs() map[string]RunFunc {
	nothing := func(context.Context, *Scope) (itinerary.Outcome, error) { return itinerary.Done(), nil }
	return map[string]RunFunc{
		// Prepare.
		phaseStarted:                         started,
		phaseStartRefresh:                    r.startRefresh,
		phaseWaitForRefresh:                  r.waitForRefresh,
		phaseCleanStaleAnnotations:           removeStageMarks,
		phaseCleanStaleResticCRs:             nothing, // Velero deletes the PodVolumeBackups and Restores with their Backups and Restores.
		phaseCleanStaleVeleroCRs:             cleanStaleVeleroCRs,
		phaseRestartVelero:                   nothing, // Ferry waits for stale Velero work instead of restarting Velero.
		phaseCleanStaleStagePods:             deleteStagePods,
		phaseWaitForStaleStagePodsTerminated: stagePodsTerminated,
		phaseCreateRegistries:                notSupported,
		phaseWaitForVeleroReady:              waitForVeleroReady,
		phaseWaitForRegistriesReady:          notSupported,
		phaseEnsureCloudSecretPropagated:     ensureCloudSecretPropagated,
		// Backup.
		phasePreBackupHooks:             runHook(migv1.HookPhasePreBackup),
		phaseCreateDirectImageMigration: r.createDirectImageMigration,
		phaseEnsureInitialBackup:        ensureBackup(initialBackup),
		phaseInitialBackupCreated:       backupCreated(initialBackup),
		// Stage backup.
		phaseQuiesceSourceApplications:        quiesceSource,
		phaseEnsureSrcQuiesced:                ensureSourceQuiesced,
		phaseEnsureStagePodsFromRunning:       ensureStagePods(fromRunning),
		phaseEnsureStagePodsFromTemplates:     ensureStagePods(fromTemplates),
		phaseEnsureStagePodsFromOrphanedPVCs:  ensureStagePods(fromOrphanedClaims),
		phaseStagePodsCreated:                 stagePodsCreated,
		phaseRestartRestic:                    nothing, // MTC restarted restic on OpenShift 3.7 and 3.9 only.
		phaseAnnotateResources:                annotateResources,
		phaseWaitForResticReady:               waitForNodeAgent,
		phaseCreateDirectVolumeMigrationStage: r.createDirectVolumeMigration,
		phaseCreateDirectVolumeMigrationFinal: r.createDirectVolumeMigration,
		// Warm sync.
		phaseCreateDirectVolumeMigrationWarm:            r.createWarmSync,
		phaseWaitForDirectVolumeMigrationWarmToComplete: r.waitForWarmSync,
		phaseEnsureStageBackup:                          ensureBackup(stageBackup),
		phaseStageBackupCreated:                         backupCreated(stageBackup),
		phaseEnsureStageBackupReplicated:                backupReplicated(stageBackup),
		phaseEnsureStageRestore:                         ensureRestore(stageRestore),
		phaseStageRestoreCreated:                        restoreCreated(stageRestore),
		phaseEnsureStagePodsDeleted:                     deleteStagePods,
		phaseEnsureStagePodsTerminated:                  stagePodsTerminated,
		phaseEnsureAnnotationsDeleted:                   removeStageMarks,
		// Direct image and volume migrations.
		phaseWaitForDirectImageMigrationToComplete:  r.waitForDirectImageMigration,
		phaseWaitForDirectVolumeMigrationToComplete: r.waitForDirectVolumeMigration,
		// Restore.
		phasePostBackupHooks:               runHook(migv1.HookPhasePostBackup),
		phasePreRestoreHooks:               runHook(migv1.HookPhasePreRestore),
		phaseEnsureInitialBackupReplicated: backupReplicated(initialBackup),
		phaseEnsureFinalRestore:            ensureRestore(finalRestore),
		phaseFinalRestoreCreated:           restoreCreated(finalRestore),
		phaseUnQuiesceDestApplications:     unquiesceDestination,
		phasePostRestoreHooks:              runHook(migv1.HookPhasePostRestore),
		// Cleanup.
		phaseSwapPVCReferences: swapPVCReferences,
		phaseDeleteRegistries:  nothing, // Ferry creates no migration registries.
		phaseVerification:      verify,
		// Cancel, Failed and Rollback.
		phaseCanceling:                                      canceling,
		phaseDeleteBackups:                                  deleteBackups,
		phaseDeleteRestores:                                 deleteRestores,
		phaseDeleteHookJobs:                                 deleteHookJobs,
		phaseDeleteDirectVolumeMigrationResources:           r.deleteDirectVolumeMigrations,
		phaseDeleteDirectImageMigrationResources:            r.deleteDirectImageMigrations,
		phaseUnQuiesceSrcApplications:                       unquiesceSource,
		phaseCanceled:                                       canceled,
		phaseMigrationFailed:                                nothing,
		phaseRollback:                                       nothing,
		phaseQuiesceDestinationApplications:                 quiesceDestination,
		phaseEnsureDestQuiesced:                             ensureDestinationQuiesced,
		phaseCreateDirectVolumeMigrationRollback:            notSupported,
		phaseWaitForDirectVolumeMigrationToRollbackComplete: notSupported,
		phaseDeleteMigrated:                                 deleteMigrated,
		phaseEnsureMigratedDeleted:                          ensureMigratedDeleted,
	}
}

// stepFunc returns the step function of phase, telling the scope which phase runs so that
// progress lines land on its step. A phase without one is a programming error.
func (r *Reconciler) stepFunc(steps map[string]RunFunc) func(phase string) RunFunc {
	return func(phase string) RunFunc {
		run, ok := steps[phase]
		if !ok {
			panic(fmt.Sprintf("migmigration: phase %s has no step function", phase))
		}
		return func(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
			s.phase = phase
			return run(ctx, s)
		}
	}
}

// notSupported fails a phase this release cannot run. Validation stops such migrations
// before they start (see unsupported); this is the guard should a plan change under a
// running migration.
func notSupported(_ context.Context, s *Scope) (itinerary.Outcome, error) {
	return itinerary.Failed("NotSupported", fmt.Sprintf("Phase %s is not supported by this Ferry release.", s.phase)), nil
}

// requeueSoon is the outcome of a step that recorded a reference and must persist it before
// creating the object.
func requeueSoon() (itinerary.Outcome, error) { return itinerary.Wait(soon), nil }
