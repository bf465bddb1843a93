package veleroadapter

import (
	"fmt"
	"sort"

	"github.com/docker/go-units"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PodVolumeBackupsOf selects the PodVolumeBackups of a Backup (Velero labels them so).
func PodVolumeBackupsOf(backup string) client.MatchingLabels {
	return client.MatchingLabels{velerov1.BackupNameLabel: backup}
}

// PodVolumeRestoresOf selects the PodVolumeRestores of a Restore.
func PodVolumeRestoresOf(restore string) client.MatchingLabels {
	return client.MatchingLabels{velerov1.RestoreNameLabel: restore}
}

// PodVolumeBackupProgress describes each PodVolumeBackup as MTC's pipeline does:
// "PodVolumeBackup velero/b-x: 5.2MB out of 10MB backed up (InProgress)", with the pod and
// volume it copies.
func PodVolumeBackupProgress(items []velerov1.PodVolumeBackup) []string {
	var out []string
	for _, p := range items {
		out = append(out, fmt.Sprintf("PodVolumeBackup %s/%s: %s out of %s backed up (%s, volume %s of pod %s/%s)%s",
			p.Namespace, p.Name, bytesSI(p.Status.Progress.BytesDone), bytesSI(p.Status.Progress.TotalBytes),
			phaseOr(string(p.Status.Phase)), p.Spec.Volume, p.Spec.Pod.Namespace, p.Spec.Pod.Name, messageOf(p.Status.Message)))
	}
	sort.Strings(out)
	return out
}

// PodVolumeRestoreProgress describes each PodVolumeRestore like PodVolumeBackupProgress.
func PodVolumeRestoreProgress(items []velerov1.PodVolumeRestore) []string {
	var out []string
	for _, p := range items {
		out = append(out, fmt.Sprintf("PodVolumeRestore %s/%s: %s out of %s restored (%s, volume %s of pod %s/%s)%s",
			p.Namespace, p.Name, bytesSI(p.Status.Progress.BytesDone), bytesSI(p.Status.Progress.TotalBytes),
			phaseOr(string(p.Status.Phase)), p.Spec.Volume, p.Spec.Pod.Namespace, p.Spec.Pod.Name, messageOf(p.Status.Message)))
	}
	sort.Strings(out)
	return out
}

// bytesSI prints n in SI units, as MTC's bytesToSI did (and the DIM's progress does).
func bytesSI(n int64) string { return units.HumanSize(float64(n)) }

func phaseOr(phase string) string {
	if phase == "" {
		return "New"
	}
	return phase
}

func messageOf(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}
