package veleroadapter

import (
	"testing"

	"github.com/vmware-tanzu/velero/pkg/apis/velero/shared"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBytesSI(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 999: "999B", 1000: "1kB", 5242931: "5.243MB", 3 << 30: "3.221GB"} {
		if got := bytesSI(n); got != want {
			t.Errorf("bytesSI(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPodVolumeProgress(t *testing.T) {
	pvb := velerov1.PodVolumeBackup{ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: "b-1"},
		Spec: velerov1.PodVolumeBackupSpec{Volume: "stage", Pod: corev1.ObjectReference{Namespace: "app", Name: "stage-data-1"}},
		Status: velerov1.PodVolumeBackupStatus{Phase: velerov1.PodVolumeBackupPhaseInProgress,
			Progress: shared.DataMoveOperationProgress{BytesDone: 2_500_000, TotalBytes: 10_000_000}}}
	got := PodVolumeBackupProgress([]velerov1.PodVolumeBackup{pvb})
	want := "PodVolumeBackup velero/b-1: 2.5MB out of 10MB backed up (InProgress, volume stage of pod app/stage-data-1)"
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want %q", got, want)
	}
	pvr := velerov1.PodVolumeRestore{ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: "r-1"},
		Spec:   velerov1.PodVolumeRestoreSpec{Volume: "stage", Pod: corev1.ObjectReference{Namespace: "app-new", Name: "stage-data-1"}},
		Status: velerov1.PodVolumeRestoreStatus{Phase: velerov1.PodVolumeRestorePhaseFailed, Message: "repository unreachable"}}
	got = PodVolumeRestoreProgress([]velerov1.PodVolumeRestore{pvr})
	want = "PodVolumeRestore velero/r-1: 0B out of 0B restored (Failed, volume stage of pod app-new/stage-data-1): repository unreachable"
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
