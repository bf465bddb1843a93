package veleroadapter

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

// State is what a migration makes of a Backup's or Restore's phase.
type State int

// States of a Backup or Restore.
const (
	// Running: not finished (no phase yet, New, Queued, ReadyToStart, InProgress, waiting for
	// plugin operations, finalizing, or a phase this package does not know).
	Running State = iota
	// Completed without errors (there may be warnings).
	Completed
	// PartiallyFailed: finished with errors on some items; MTC goes on with a warning.
	PartiallyFailed
	// Failed: Failed, FailedValidation, or a Backup being deleted; the migration fails.
	Failed
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case Running:
		return "Running"
	case Completed:
		return "Completed"
	case PartiallyFailed:
		return "PartiallyFailed"
	case Failed:
		return "Failed"
	default:
		return fmt.Sprintf("State(%d)", int(s))
	}
}

// Outcome is the state of a Backup or Restore and what a user needs to know about it.
type Outcome struct {
	State State
	// Message says why for Failed (failure reason, validation errors, counts), gives the
	// counts for PartiallyFailed ("3 errors, 1 warning") and for Completed with warnings,
	// names an unknown phase for Running, and is empty otherwise.
	Message string
}

// BackupOutcome maps a Backup's phase (Velero v1.18.3's list) to an Outcome. The
// "...PartiallyFailed" phases of plugin operations and finalizing are Running: Velero still
// works on the backup and ends it PartiallyFailed.
func BackupOutcome(b *velerov1.Backup) Outcome {
	st := b.Status
	switch st.Phase {
	case "", velerov1.BackupPhaseNew, velerov1.BackupPhaseQueued, velerov1.BackupPhaseReadyToStart,
		velerov1.BackupPhaseInProgress,
		velerov1.BackupPhaseWaitingForPluginOperations, velerov1.BackupPhaseWaitingForPluginOperationsPartiallyFailed,
		velerov1.BackupPhaseFinalizing, velerov1.BackupPhaseFinalizingPartiallyFailed:
		return Outcome{State: Running}
	case velerov1.BackupPhaseCompleted:
		return Outcome{State: Completed, Message: counts(st.Errors, st.Warnings)}
	case velerov1.BackupPhasePartiallyFailed:
		return Outcome{State: PartiallyFailed, Message: counts(st.Errors, st.Warnings)}
	case velerov1.BackupPhaseFailed:
		return Outcome{State: Failed, Message: failure("failed", st.FailureReason, nil, st.Errors, st.Warnings)}
	case velerov1.BackupPhaseFailedValidation:
		return Outcome{State: Failed, Message: failure("validation failed", st.FailureReason, st.ValidationErrors, 0, 0)}
	case velerov1.BackupPhaseDeleting:
		return Outcome{State: Failed, Message: "the backup is being deleted"}
	default:
		return Outcome{State: Running, Message: fmt.Sprintf("unknown phase %q", st.Phase)}
	}
}

// RestoreOutcome maps a Restore's phase (Velero v1.18.3's list) to an Outcome, like
// BackupOutcome.
func RestoreOutcome(r *velerov1.Restore) Outcome {
	st := r.Status
	switch st.Phase {
	case "", velerov1.RestorePhaseNew, velerov1.RestorePhaseInProgress,
		velerov1.RestorePhaseWaitingForPluginOperations, velerov1.RestorePhaseWaitingForPluginOperationsPartiallyFailed,
		velerov1.RestorePhaseFinalizing, velerov1.RestorePhaseFinalizingPartiallyFailed:
		return Outcome{State: Running}
	case velerov1.RestorePhaseCompleted:
		return Outcome{State: Completed, Message: counts(st.Errors, st.Warnings)}
	case velerov1.RestorePhasePartiallyFailed:
		return Outcome{State: PartiallyFailed, Message: counts(st.Errors, st.Warnings)}
	case velerov1.RestorePhaseFailed:
		return Outcome{State: Failed, Message: failure("failed", st.FailureReason, nil, st.Errors, st.Warnings)}
	case velerov1.RestorePhaseFailedValidation:
		return Outcome{State: Failed, Message: failure("validation failed", st.FailureReason, st.ValidationErrors, 0, 0)}
	default:
		return Outcome{State: Running, Message: fmt.Sprintf("unknown phase %q", st.Phase)}
	}
}

// failure builds a Failed message: "<what>: <reason>; <validation errors>; (<counts>)".
func failure(what, reason string, validation []string, errs, warnings int) string {
	parts := []string{}
	if reason != "" {
		parts = append(parts, reason)
	}
	parts = append(parts, validation...)
	msg := what
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, "; ")
	}
	if c := counts(errs, warnings); c != "" {
		msg += " (" + c + ")"
	}
	return msg
}

// counts says "3 errors, 1 warning", leaving out zeros; "" when both are zero.
func counts(errs, warnings int) string {
	var parts []string
	if errs > 0 {
		parts = append(parts, plural(errs, "error"))
	}
	if warnings > 0 {
		parts = append(parts, plural(warnings, "warning"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// BackupProgress returns the progress lines of a Backup in MTC's words, for
// status.pipeline[].progress, such as
// "Backup openshift-migration/x: 12 out of estimated total of 50 objects backed up (3s)". The
// duration runs from the start to the completion, or to now while the backup runs.
func BackupProgress(b *velerov1.Backup, now time.Time) []string {
	st := b.Status
	what := "Backup " + b.Namespace + "/" + b.Name + ": "
	var done, total int
	if st.Progress != nil {
		done, total = st.Progress.ItemsBackedUp, st.Progress.TotalItems
	}
	items := fmt.Sprintf("%d out of estimated total of %d objects backed up%s",
		done, total, duration(st.StartTimestamp, st.CompletionTimestamp, now))
	switch st.Phase {
	case "", velerov1.BackupPhaseNew, velerov1.BackupPhaseReadyToStart:
		return []string{what + "Not started"}
	case velerov1.BackupPhaseQueued:
		return []string{what + fmt.Sprintf("Queued (position %d)", st.QueuePosition)}
	case velerov1.BackupPhaseFailedValidation:
		return []string{what + "validation failed."}
	case velerov1.BackupPhaseFailed:
		return []string{what + "failed. " + items}
	case velerov1.BackupPhasePartiallyFailed:
		return []string{what + "partially failed. " + items}
	case velerov1.BackupPhaseWaitingForPluginOperations, velerov1.BackupPhaseWaitingForPluginOperationsPartiallyFailed:
		return []string{what + items, what + fmt.Sprintf("waiting for plugin operations (%d of %d completed)",
			st.BackupItemOperationsCompleted, st.BackupItemOperationsAttempted)}
	case velerov1.BackupPhaseDeleting:
		return []string{what + "being deleted"}
	default: // InProgress, Finalizing..., Completed
		return []string{what + items}
	}
}

// RestoreProgress returns the progress lines of a Restore in MTC's words, such as
// "Restore openshift-migration/x: 8 out of estimated total of 8 objects restored (1s)".
func RestoreProgress(r *velerov1.Restore, now time.Time) []string {
	st := r.Status
	what := "Restore " + r.Namespace + "/" + r.Name + ": "
	var done, total int
	if st.Progress != nil {
		done, total = st.Progress.ItemsRestored, st.Progress.TotalItems
	}
	items := fmt.Sprintf("%d out of estimated total of %d objects restored%s",
		done, total, duration(st.StartTimestamp, st.CompletionTimestamp, now))
	switch st.Phase {
	case "", velerov1.RestorePhaseNew:
		return []string{what + "Not started"}
	case velerov1.RestorePhaseFailedValidation:
		return []string{what + "validation failed."}
	case velerov1.RestorePhaseFailed:
		return []string{what + "failed. " + items}
	case velerov1.RestorePhasePartiallyFailed:
		return []string{what + "partially failed. " + items}
	case velerov1.RestorePhaseWaitingForPluginOperations, velerov1.RestorePhaseWaitingForPluginOperationsPartiallyFailed:
		return []string{what + items, what + fmt.Sprintf("waiting for plugin operations (%d of %d completed)",
			st.RestoreItemOperationsCompleted, st.RestoreItemOperationsAttempted)}
	default: // InProgress, Finalizing..., Completed
		return []string{what + items}
	}
}

// duration is " (<elapsed>)" from start to completion, or to now when not completed, rounded
// to the second; "" without a start.
func duration(start, completion *metav1.Time, now time.Time) string {
	if start == nil {
		return ""
	}
	end := now
	if completion != nil {
		end = completion.Time
	}
	d := max(end.Sub(start.Time).Round(time.Second), 0)
	return fmt.Sprintf(" (%s)", d)
}
