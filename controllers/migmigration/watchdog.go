package migmigration

import (
	"fmt"
	"slices"
	"strings"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// watchedPhases wait for work outside Ferry of unknown length: Velero's, a hook's, a DVM's, a
// DIM's.
// The no-progress watchdog (pkg/itinerary) warns, then fails them, when what they observe
// stops changing (migration_no_progress_*), instead of a fixed timeout that a large backup
// would outlive. Several run with the source quiesced, where a silent hang keeps the
// applications down.
var watchedPhases = map[string]bool{
	phaseInitialBackupCreated:                       true,
	phaseStageBackupCreated:                         true,
	phaseEnsureStageBackupReplicated:                true,
	phaseStageRestoreCreated:                        true,
	phaseEnsureInitialBackupReplicated:              true,
	phaseFinalRestoreCreated:                        true,
	phasePreBackupHooks:                             true,
	phasePostBackupHooks:                            true,
	phasePreRestoreHooks:                            true,
	phasePostRestoreHooks:                           true,
	phaseWaitForDirectVolumeMigrationToComplete:     true,
	phaseWaitForDirectVolumeMigrationWarmToComplete: true,
	phaseWaitForDirectImageMigrationToComplete:      true,
}

// backupState is what progress of a Backup looks like: its phase, queue position and counts.
func backupState(b *velerov1.Backup) string {
	st := b.Status
	out := orNew(string(st.Phase))
	if st.Phase == velerov1.BackupPhaseQueued {
		out += fmt.Sprintf(" (position %d)", st.QueuePosition)
	}
	if st.Progress != nil {
		out += fmt.Sprintf(", %d of %d items", st.Progress.ItemsBackedUp, st.Progress.TotalItems)
	}
	if st.BackupItemOperationsAttempted > 0 {
		out += fmt.Sprintf(", %d of %d plugin operations", st.BackupItemOperationsCompleted, st.BackupItemOperationsAttempted)
	}
	return out
}

// restoreState is what progress of a Restore looks like.
func restoreState(r *velerov1.Restore) string {
	st := r.Status
	out := orNew(string(st.Phase))
	if st.Progress != nil {
		out += fmt.Sprintf(", %d of %d items", st.Progress.ItemsRestored, st.Progress.TotalItems)
	}
	if st.RestoreItemOperationsAttempted > 0 {
		out += fmt.Sprintf(", %d of %d plugin operations", st.RestoreItemOperationsCompleted, st.RestoreItemOperationsAttempted)
	}
	return out
}

// orNew names the phase of a Velero object that Velero has not picked up yet.
func orNew(phase string) string {
	if phase == "" {
		return "New (not picked up by Velero yet)"
	}
	return phase
}

// jobState is what progress of a hook Job looks like: its pods by state, and why the cluster
// refuses to create them, if it does.
func jobState(job *batchv1.Job, refused string) string {
	out := fmt.Sprintf("%d active (%d ready), %d succeeded, %d failed", job.Status.Active, ptr.Deref(job.Status.Ready, 0),
		job.Status.Succeeded, job.Status.Failed)
	if refused != "" {
		out += "; pods refused: " + refused
	}
	return out
}

// dvmState is what progress of a DVM looks like: its phase and each volume's state, attempt
// and percentage (not its transfer rate, which changes by itself).
func dvmState(dvm *migv1.DirectVolumeMigration) string {
	st := dvm.Status
	parts := []string{orNew(st.Phase)}
	for _, group := range []struct {
		state string
		pods  []*migv1.PodProgress
	}{{"Running", st.RunningPods}, {"Pending", st.PendingPods}, {"Completed", st.SuccessfulPods}, {"Failed", st.FailedPods}} {
		for _, p := range group.pods {
			line := podLine(group.state, &migv1.PodProgress{ObjectReference: p.ObjectReference, PVCReference: p.PVCReference,
				LastObservedProgressPercent: p.LastObservedProgressPercent})
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// dvmBlockers are the DVM conditions that say it is not moving: a validation blocker (Critical)
// or a warning of pods it cannot create or start, or of its own watchdog.
var dvmBlockers = []string{migv1.FailedCreatingRsyncPods, migv1.RsyncClientPodsPending, migv1.RsyncTransferPodsPending,
	migv1.RsyncRouteNotAdmitted, migv1.NoProgress}

// dvmBlocked returns the messages of what keeps the DVM from moving, for the migration's
// DirectVolumeMigrationBlocked warning (MTC surfaced the DVM's warnings that way).
func dvmBlocked(dvm *migv1.DirectVolumeMigration) []string {
	var out []string
	for _, c := range dvm.Status.Conditions {
		if conditions.IsBlocker(c) || c.Category == migv1.CategoryWarn && c.Status == migv1.True && slices.Contains(dvmBlockers, c.Type) {
			out = append(out, c.Type+": "+c.Message)
		}
	}
	return out
}
