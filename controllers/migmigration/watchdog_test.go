package migmigration

import (
	"context"
	"strings"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// TestResumeTimerShiftsTheWatch: time spent blocked is not counted as time without progress.
func TestResumeTimerShiftsTheWatch(t *testing.T) {
	blockedAt := created.Add(20 * time.Minute)
	now := created.Add(80 * time.Minute)
	blocker := conditions.Critical(migv1.PlanNotReady, "", "")
	blocker.LastTransitionTime = metav1.NewTime(blockedAt)
	for _, tc := range []struct {
		name        string
		since, want time.Time
	}{
		{"watched since before the block: shifted by the 60 blocked minutes", created.Add(10 * time.Minute), created.Add(70 * time.Minute)},
		{"no watch", time.Time{}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := itinerary.Cursor{Itinerary: FinalItinerary, Phase: phaseFinalRestoreCreated, PhaseStartedAt: created,
				Watch: itinerary.Watch{State: "New", Since: tc.since}}
			if got := resumeTimer(cur, migv1.Conditions{blocker}, now).Watch.Since; !got.Equal(tc.want) {
				t.Errorf("watch since %s, want %s", got, tc.want)
			}
		})
	}
}

func TestWatchedPhasesAreWatched(t *testing.T) {
	r := &Reconciler{}
	its := Itineraries(r.stepFunc(r.stepFuncs()))
	for _, name := range []string{phaseFinalRestoreCreated, phaseInitialBackupCreated, phaseStageBackupCreated, phaseStageRestoreCreated,
		phaseEnsureInitialBackupReplicated, phaseEnsureStageBackupReplicated, phasePreBackupHooks, phasePostBackupHooks,
		phasePreRestoreHooks, phasePostRestoreHooks, phaseWaitForDirectVolumeMigrationToComplete} {
		p, ok := its[FinalItinerary].Find(name)
		if !ok || !p.Watch {
			t.Errorf("phase %s of Final is not watched", name)
		}
	}
	if p, _ := its[FinalItinerary].Find(phaseEnsureSrcQuiesced); p.Watch {
		t.Errorf("phase %s has a timeout, and is watched too", p.Name)
	}
}

func TestProgressStates(t *testing.T) {
	for _, tc := range []struct {
		name, got, want string
	}{
		{"a Backup Velero has not seen", backupState(&velerov1.Backup{}), "New (not picked up by Velero yet)"},
		{"a Backup in progress", backupState(&velerov1.Backup{Status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseInProgress,
			Progress: &velerov1.BackupProgress{ItemsBackedUp: 12, TotalItems: 40}}}), "InProgress, 12 of 40 items"},
		{"a queued Backup", backupState(&velerov1.Backup{Status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseQueued, QueuePosition: 3}}),
			"Queued (position 3)"},
		{"a Restore in progress", restoreState(&velerov1.Restore{Status: velerov1.RestoreStatus{Phase: velerov1.RestorePhaseInProgress,
			Progress: &velerov1.RestoreProgress{ItemsRestored: 5, TotalItems: 8}}}), "InProgress, 5 of 8 items"},
		{"a Job whose pods are refused", jobState(&batchv1.Job{}, "exceeded quota"), "0 active (0 ready), 0 succeeded, 0 failed; pods refused: exceeded quota"},
		{"a DVM transferring, without its rate", dvmState(&migv1.DirectVolumeMigration{Status: migv1.DirectVolumeMigrationStatus{Phase: "RunRsyncOperations",
			RunningPods: []*migv1.PodProgress{{ObjectReference: &corev1.ObjectReference{Namespace: "a", Name: "p-1"},
				PVCReference: &corev1.ObjectReference{Name: "data"}, LastObservedProgressPercent: "42%", LastObservedTransferRate: "3MB/s"}}}}),
			"RunRsyncOperations; [data] a/p-1: Running 42%"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestDVMBlocked(t *testing.T) {
	quota := conditions.Warn(migv1.FailedCreatingRsyncPods, "", "pods \"x\" is forbidden: exceeded quota")
	nonRoot := conditions.Warn(migv1.RsyncServerPodsRunningAsNonRoot, "", "owners are lost")
	missing := conditions.Critical(migv1.PVCsNotFoundOnSourceCluster, "", "PVC a/data is gone")
	got := dvmBlocked(&migv1.DirectVolumeMigration{Status: migv1.DirectVolumeMigrationStatus{Conditions: migv1.Conditions{quota, nonRoot, missing}}})
	if len(got) != 2 || !strings.Contains(got[0], "exceeded quota") || !strings.Contains(got[1], "PVC a/data is gone") {
		t.Errorf("blocked = %q, want the quota refusal and the validation blocker, not the non-root warning", got)
	}
}

func TestNoProgressCondition(t *testing.T) {
	since := created.Add(5 * time.Minute)
	st := &itinerary.Stall{Phase: phaseFinalRestoreCreated, For: 11 * time.Minute,
		Watch: itinerary.Watch{Waiting: "Restore openshift-migration/x on the destination cluster", State: "New", Since: since}}
	c := conditions.NoProgress(st, itinerary.Limits{Warning: 10 * time.Minute, Timeout: time.Hour}, "migration")
	if len(c) != 1 || c[0].Type != migv1.NoProgress || c[0].Category != migv1.CategoryWarn {
		t.Fatalf("conditions %+v", c)
	}
	for _, want := range []string{"Restore openshift-migration/x on the destination cluster", "last observed: New", since.UTC().Format(time.RFC3339),
		"fails at " + since.Add(time.Hour).UTC().Format(time.RFC3339)} {
		if !strings.Contains(c[0].Message, want) {
			t.Errorf("message %q lacks %q", c[0].Message, want)
		}
	}
	st.For = 12 * time.Minute
	if again := conditions.NoProgress(st, itinerary.Limits{Warning: 10 * time.Minute, Timeout: time.Hour}, "migration"); again[0].Message != c[0].Message {
		t.Errorf("the message changes while the stall lasts: %q", again[0].Message)
	}
	if conditions.NoProgress(nil, itinerary.Limits{}, "migration") != nil {
		t.Error("a condition without a stall")
	}
}

func TestHookPodsRefusedShowAtOnce(t *testing.T) {
	w := newHookWorld(t)
	w.namespace("shop", nil)
	s := w.scope("shop", []string{"shop"}, "shop", migv1.MigHookSpec{Custom: true, Image: "registry.example/hooks/record:1", TargetCluster: "source"})
	_, job := w.start(s)
	if job == nil {
		t.Fatal("no Job")
	}
	ctx := context.Background()
	// What the Job controller records when a ResourceQuota refuses the pod.
	msg := `Error creating: pods "shop-prebackup-x" is forbidden: exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0`
	event := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: job.Name + ".1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Job", Namespace: "shop", Name: job.Name, UID: job.UID, APIVersion: "batch/v1"},
		Reason:         jobFailedCreate, Message: msg, Type: corev1.EventTypeWarning, LastTimestamp: metav1.Now(), Count: 1}
	if err := w.cp.Client.Create(ctx, event); err != nil {
		t.Fatal(err)
	}
	s.notices = nil
	out, err := runHook(migv1.HookPhasePreBackup)(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.notices) != 1 || s.notices[0].Type != migv1.FailedCreatingHookPods || !strings.Contains(s.notices[0].Message, "exceeded quota: no-pods") {
		t.Fatalf("notices %+v, want FailedCreatingHookPods with the API's message", s.notices)
	}
	if out.Progress == nil || !strings.Contains(out.Progress.State, "pods refused") || out.Progress.Bounded {
		t.Errorf("progress %+v, want the refusal in the state, not bounded", out.Progress)
	}
}
