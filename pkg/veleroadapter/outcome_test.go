package veleroadapter

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

func TestBackupOutcome(t *testing.T) {
	tests := []struct {
		status velerov1.BackupStatus
		want   Outcome
	}{
		{velerov1.BackupStatus{}, Outcome{State: Running}},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseNew}, Outcome{State: Running}},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseQueued}, Outcome{State: Running}},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseReadyToStart}, Outcome{State: Running}},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseInProgress}, Outcome{State: Running}},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseWaitingForPluginOperations}, Outcome{State: Running}},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseWaitingForPluginOperationsPartiallyFailed}, Outcome{State: Running}},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseFinalizing}, Outcome{State: Running}},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseFinalizingPartiallyFailed}, Outcome{State: Running}},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted}, Outcome{State: Completed}},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted, Warnings: 2}, Outcome{State: Completed, Message: "2 warnings"}},
		{
			velerov1.BackupStatus{Phase: velerov1.BackupPhasePartiallyFailed, Errors: 3, Warnings: 1},
			Outcome{State: PartiallyFailed, Message: "3 errors, 1 warning"},
		},
		{
			velerov1.BackupStatus{Phase: velerov1.BackupPhaseFailed, FailureReason: "error getting backup store", Errors: 1},
			Outcome{State: Failed, Message: "failed: error getting backup store (1 error)"},
		},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseFailed}, Outcome{State: Failed, Message: "failed"}},
		{
			velerov1.BackupStatus{Phase: velerov1.BackupPhaseFailedValidation, ValidationErrors: []string{
				"an existing backup storage location was not specified", "invalid included/excluded resource lists",
			}},
			Outcome{State: Failed, Message: "validation failed: an existing backup storage location was not specified; invalid included/excluded resource lists"},
		},
		{velerov1.BackupStatus{Phase: velerov1.BackupPhaseDeleting}, Outcome{State: Failed, Message: "the backup is being deleted"}},
		{velerov1.BackupStatus{Phase: "Exploded"}, Outcome{State: Running, Message: `unknown phase "Exploded"`}},
	}
	for _, tt := range tests {
		t.Run(string(tt.status.Phase), func(t *testing.T) {
			if got := BackupOutcome(&velerov1.Backup{Status: tt.status}); got != tt.want {
				t.Errorf("BackupOutcome = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRestoreOutcome(t *testing.T) {
	tests := []struct {
		status velerov1.RestoreStatus
		want   Outcome
	}{
		{velerov1.RestoreStatus{}, Outcome{State: Running}},
		{velerov1.RestoreStatus{Phase: velerov1.RestorePhaseNew}, Outcome{State: Running}},
		{velerov1.RestoreStatus{Phase: velerov1.RestorePhaseInProgress}, Outcome{State: Running}},
		{velerov1.RestoreStatus{Phase: velerov1.RestorePhaseWaitingForPluginOperations}, Outcome{State: Running}},
		{velerov1.RestoreStatus{Phase: velerov1.RestorePhaseWaitingForPluginOperationsPartiallyFailed}, Outcome{State: Running}},
		{velerov1.RestoreStatus{Phase: velerov1.RestorePhaseFinalizing}, Outcome{State: Running}},
		{velerov1.RestoreStatus{Phase: velerov1.RestorePhaseFinalizingPartiallyFailed}, Outcome{State: Running}},
		{velerov1.RestoreStatus{Phase: velerov1.RestorePhaseCompleted, Warnings: 1}, Outcome{State: Completed, Message: "1 warning"}},
		{
			velerov1.RestoreStatus{Phase: velerov1.RestorePhasePartiallyFailed, Errors: 1},
			Outcome{State: PartiallyFailed, Message: "1 error"},
		},
		{
			velerov1.RestoreStatus{Phase: velerov1.RestorePhaseFailed, FailureReason: "found a restore with status \"InProgress\" during the server starting, mark it as \"Failed\""},
			Outcome{State: Failed, Message: "failed: found a restore with status \"InProgress\" during the server starting, mark it as \"Failed\""},
		},
		{
			velerov1.RestoreStatus{Phase: velerov1.RestorePhaseFailedValidation, ValidationErrors: []string{"backup not found"}},
			Outcome{State: Failed, Message: "validation failed: backup not found"},
		},
		{velerov1.RestoreStatus{Phase: "Exploded"}, Outcome{State: Running, Message: `unknown phase "Exploded"`}},
	}
	for _, tt := range tests {
		t.Run(string(tt.status.Phase), func(t *testing.T) {
			if got := RestoreOutcome(&velerov1.Restore{Status: tt.status}); got != tt.want {
				t.Errorf("RestoreOutcome = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBackupProgress(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	start := metav1.NewTime(now.Add(-3200 * time.Millisecond))
	end := metav1.NewTime(now.Add(-time.Second))
	progress := &velerov1.BackupProgress{ItemsBackedUp: 12, TotalItems: 50}
	meta := metav1.ObjectMeta{Namespace: "openshift-migration", Name: "x"}
	tests := []struct {
		name   string
		status velerov1.BackupStatus
		want   []string
	}{
		{"new", velerov1.BackupStatus{}, []string{"Backup openshift-migration/x: Not started"}},
		{"queued", velerov1.BackupStatus{Phase: velerov1.BackupPhaseQueued, QueuePosition: 2},
			[]string{"Backup openshift-migration/x: Queued (position 2)"}},
		{"in progress", velerov1.BackupStatus{Phase: velerov1.BackupPhaseInProgress, StartTimestamp: &start, Progress: progress},
			[]string{"Backup openshift-migration/x: 12 out of estimated total of 50 objects backed up (3s)"}},
		{"in progress without progress yet", velerov1.BackupStatus{Phase: velerov1.BackupPhaseInProgress},
			[]string{"Backup openshift-migration/x: 0 out of estimated total of 0 objects backed up"}},
		{"completed", velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted, StartTimestamp: &start, CompletionTimestamp: &end,
			Progress: &velerov1.BackupProgress{ItemsBackedUp: 50, TotalItems: 50}},
			[]string{"Backup openshift-migration/x: 50 out of estimated total of 50 objects backed up (2s)"}},
		{"waiting for plugins", velerov1.BackupStatus{Phase: velerov1.BackupPhaseWaitingForPluginOperations, StartTimestamp: &start,
			Progress: progress, BackupItemOperationsAttempted: 3, BackupItemOperationsCompleted: 1},
			[]string{
				"Backup openshift-migration/x: 12 out of estimated total of 50 objects backed up (3s)",
				"Backup openshift-migration/x: waiting for plugin operations (1 of 3 completed)",
			}},
		{"partially failed", velerov1.BackupStatus{Phase: velerov1.BackupPhasePartiallyFailed, StartTimestamp: &start, CompletionTimestamp: &end, Progress: progress},
			[]string{"Backup openshift-migration/x: partially failed. 12 out of estimated total of 50 objects backed up (2s)"}},
		{"failed", velerov1.BackupStatus{Phase: velerov1.BackupPhaseFailed, Progress: progress},
			[]string{"Backup openshift-migration/x: failed. 12 out of estimated total of 50 objects backed up"}},
		{"failed validation", velerov1.BackupStatus{Phase: velerov1.BackupPhaseFailedValidation},
			[]string{"Backup openshift-migration/x: validation failed."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BackupProgress(&velerov1.Backup{ObjectMeta: meta, Status: tt.status}, now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("BackupProgress =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestRestoreProgress(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	start := metav1.NewTime(now.Add(-time.Minute - 500*time.Millisecond))
	end := metav1.NewTime(now.Add(-time.Minute + time.Second))
	meta := metav1.ObjectMeta{Namespace: "openshift-migration", Name: "r"}
	progress := &velerov1.RestoreProgress{ItemsRestored: 8, TotalItems: 8}
	tests := []struct {
		name   string
		status velerov1.RestoreStatus
		want   []string
	}{
		{"new", velerov1.RestoreStatus{Phase: velerov1.RestorePhaseNew}, []string{"Restore openshift-migration/r: Not started"}},
		{"in progress", velerov1.RestoreStatus{Phase: velerov1.RestorePhaseInProgress, StartTimestamp: &start,
			Progress: &velerov1.RestoreProgress{ItemsRestored: 3, TotalItems: 8}},
			[]string{"Restore openshift-migration/r: 3 out of estimated total of 8 objects restored (1m1s)"}},
		{"completed", velerov1.RestoreStatus{Phase: velerov1.RestorePhaseCompleted, StartTimestamp: &start, CompletionTimestamp: &end, Progress: progress},
			[]string{"Restore openshift-migration/r: 8 out of estimated total of 8 objects restored (2s)"}},
		{"partially failed", velerov1.RestoreStatus{Phase: velerov1.RestorePhasePartiallyFailed, Progress: progress},
			[]string{"Restore openshift-migration/r: partially failed. 8 out of estimated total of 8 objects restored"}},
		{"failed", velerov1.RestoreStatus{Phase: velerov1.RestorePhaseFailed},
			[]string{"Restore openshift-migration/r: failed. 0 out of estimated total of 0 objects restored"}},
		{"failed validation", velerov1.RestoreStatus{Phase: velerov1.RestorePhaseFailedValidation},
			[]string{"Restore openshift-migration/r: validation failed."}},
		{"waiting for plugins", velerov1.RestoreStatus{Phase: velerov1.RestorePhaseWaitingForPluginOperationsPartiallyFailed,
			Progress: progress, RestoreItemOperationsAttempted: 2},
			[]string{
				"Restore openshift-migration/r: 8 out of estimated total of 8 objects restored",
				"Restore openshift-migration/r: waiting for plugin operations (0 of 2 completed)",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RestoreProgress(&velerov1.Restore{ObjectMeta: meta, Status: tt.status}, now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RestoreProgress =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
