package migview

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// Volume states in a DirectVolumeMigration's status.
const (
	Completed = "Completed"
	Failed    = "Failed"
	Running   = "Running"
	Pending   = "Pending"
)

// Volume is one PVC of the migration's volume copy.
type Volume struct {
	// PVC is NAMESPACE/NAME, with "(warm pass N)" while a warm pass copies it.
	PVC string
	// State is Completed, Failed, Running or Pending.
	State string
	// Progress is the rsync progress the transfer reported, nil before the first report.
	Progress *migv1.DirectVolumeMigrationProgress
}

// Percent is how much of the volume is copied: 100 once Completed.
func (v Volume) Percent() int {
	if v.State == Completed {
		return 100
	}
	if v.Progress == nil {
		return 0
	}
	p, _ := strconv.Atoi(strings.TrimSuffix(v.Progress.Status.TotalProgressPercentage, "%"))
	return max(0, min(p, 100))
}

// Bytes is how many bytes were transferred.
func (v Volume) Bytes() int64 {
	if v.Progress == nil {
		return 0
	}
	return v.Progress.Status.TransferredBytes
}

// Rate is the last observed transfer rate ("35.2MB/s") while the copy runs, else "".
func (v Volume) Rate() string {
	if v.Progress == nil || v.State != Running {
		return ""
	}
	return v.Progress.Status.LastObservedTransferRate
}

// ETA is the time left at the same pace while the copy runs.
func (v Volume) ETA() (time.Duration, bool) {
	if v.State != Running || v.Progress == nil || v.Progress.Status.ContainerElapsedTime == nil {
		return 0, false
	}
	return Estimate(v.Percent(), v.Progress.Status.ContainerElapsedTime.Duration)
}

// Estimate is the time left of a copy percent done after elapsed, at the same pace.
func Estimate(percent int, elapsed time.Duration) (time.Duration, bool) {
	if percent <= 0 || percent >= 100 || elapsed <= 0 {
		return 0, false
	}
	left := time.Duration(float64(elapsed) * float64(100-percent) / float64(percent))
	return left.Round(time.Second), true
}

// VolumeState is the PVC's state in the DVM's status: Completed, Failed, Running, Pending.
func VolumeState(dvm *migv1.DirectVolumeMigration, ns, name string) string {
	st := dvm.Status
	for _, group := range []struct {
		state string
		pods  []*migv1.PodProgress
	}{{Completed, st.SuccessfulPods}, {Failed, st.FailedPods}, {Running, st.RunningPods}, {Pending, st.PendingPods}} {
		for _, p := range group.pods {
			if p.PVCReference != nil && p.PVCReference.Namespace == ns && p.PVCReference.Name == name {
				return group.state
			}
		}
	}
	return Pending
}

// ProgressFunc returns the progress object of a PVC's transfer in a DVM, or nil.
type ProgressFunc func(dvm, pvc, pvcNamespace string) *migv1.DirectVolumeMigrationProgress

// VolumeRows are the rows of the migration's volumes. A cutover with warm sync copies each
// volume in several DVMs (the passes, then the final one): a volume has one row, that of its
// latest DVM, named with its warm pass while one runs.
func VolumeRows(m *migv1.MigMigration, dvms []migv1.DirectVolumeMigration, progress ProgressFunc) []Volume {
	warmPass := map[string]int{}
	for _, ref := range m.Status.References {
		if ref.Role == migv1.ReferenceRoleWarmDirectVolumeMigration {
			warmPass[ref.Name] = len(warmPass) + 1
		}
	}
	dvms = slices.Clone(dvms)
	sort.SliceStable(dvms, func(i, j int) bool { return dvms[i].CreationTimestamp.Before(&dvms[j].CreationTimestamp) })
	var out []Volume
	row := map[string]int{}
	for i := range dvms {
		dvm := &dvms[i]
		for _, pvc := range dvm.Spec.PersistentVolumeClaims {
			id := pvc.Namespace + "/" + pvc.Name
			v := Volume{PVC: id, Progress: progress(dvm.Name, pvc.Name, pvc.Namespace), State: VolumeState(dvm, pvc.Namespace, pvc.Name)}
			if n := warmPass[dvm.Name]; n > 0 {
				v.PVC = fmt.Sprintf("%s (warm pass %d)", id, n)
			}
			if at, seen := row[id]; seen {
				out[at] = v
				continue
			}
			row[id] = len(out)
			out = append(out, v)
		}
	}
	return out
}
