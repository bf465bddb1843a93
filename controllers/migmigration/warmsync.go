package migmigration

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// The pass rule of warm sync (see doc.go): passes repeat while the applications run until
// one copies little, stops shrinking, or the count runs out. The final DVM, after quiesce,
// then copies only what changed during the last pass.
const (
	// warmSmallBytes and warmSmallFiles: a pass that updated at most this much left so little
	// to copy that another pass (with its fixed cost of about ten seconds of namespaces, PVCs,
	// certificates and pods) would not shorten the downtime noticeably.
	warmSmallBytes = 32 << 20
	warmSmallFiles = 1000
	// warmQuickCopy: a pass whose rsync ran this briefly is small whatever it moved (a fast
	// link).
	warmQuickCopy = 2 * time.Second
	// warmMaxPasses bounds the passes of an application that writes as fast as they copy.
	warmMaxPasses = 5
)

// warmPass is what one warm pass changed on the destination, summed over its volumes.
type warmPass struct {
	// Bytes is the size of the files rsync updated (its "Total transferred file size").
	Bytes int64
	// Files is the number of regular files rsync updated.
	Files int64
	// Copying is the longest rsync run time of a volume (volumes are copied in parallel).
	Copying time.Duration
	// Measured says every volume of the pass reported a successful attempt; a pass that
	// failed, or whose progress objects are gone, cannot be compared with another.
	Measured bool
}

// nextWarmPass decides, once the passes so far have completed, whether to run another before
// quiescing, and says why (for the pipeline and events).
func nextWarmPass(passes []warmPass) (again bool, why string) {
	n := len(passes)
	if n == 0 {
		return true, "no pass yet"
	}
	last := passes[n-1]
	switch {
	case !last.Measured:
		return false, fmt.Sprintf("pass %d could not be measured", n)
	case last.Bytes <= warmSmallBytes && last.Files <= warmSmallFiles:
		return false, fmt.Sprintf("pass %d changed little (%s in %d files)", n, humanBytes(last.Bytes), last.Files)
	case last.Copying <= warmQuickCopy:
		return false, fmt.Sprintf("pass %d copied in %s", n, last.Copying)
	case n >= warmMaxPasses:
		return false, fmt.Sprintf("%d passes is the most warm sync runs", n)
	case n >= 2 && !shrank(passes[n-2], last):
		return false, fmt.Sprintf("pass %d changed about as much as pass %d: the applications write as fast as a pass copies", n, n-1)
	}
	return true, fmt.Sprintf("pass %d changed %s in %d files", n, humanBytes(last.Bytes), last.Files)
}

// shrank says whether a pass changed clearly less than the one before it: by more than a
// quarter, in bytes or, for a delta of many small files, in files.
func shrank(before, after warmPass) bool {
	return after.Bytes*4 < before.Bytes*3 || after.Files*4 < before.Files*3
}

// measureWarmPass sums what a warm pass changed from its progress objects (one per volume):
// rsync's statistics of each volume's successful attempt, kept in the attempt's log message,
// plus what earlier attempts of the pass moved before they failed. A running application
// makes attempts fail (rsync exit 24: a file vanished while rsync listed it) after they
// copied most of the delta, and the retry then only finishes the job: counting the retry
// alone would make a large delta look small.
func measureWarmPass(dvmps []migv1.DirectVolumeMigrationProgress, volumes int) warmPass {
	p := warmPass{Measured: volumes > 0 && len(dvmps) == volumes}
	for i := range dvmps {
		st := &dvmps[i].Status
		ok := succeededAttempt(st)
		if ok == nil {
			p.Measured = false
			continue
		}
		for _, a := range attempts(st) {
			if a.PodName != ok.PodName {
				p.Bytes += a.TransferredBytes
			}
		}
		if stats, found := transfer.ParseStats(ok.LogMessage); found {
			p.Bytes += stats.TransferredFileSize
			p.Files += stats.RegularFilesTransferred
		} else {
			// No statistics (a message from an older operator): the last progress line's bytes.
			p.Bytes += ok.TransferredBytes
		}
		if st.RsyncElapsedTime != nil {
			p.Copying = max(p.Copying, st.RsyncElapsedTime.Duration)
		}
	}
	return p
}

// attempts are the attempts a progress object knows: its history, and its current attempt
// when the history does not hold it yet.
func attempts(st *migv1.DirectVolumeMigrationProgressStatus) []migv1.RsyncPodStatus {
	out := st.RsyncPodStatuses
	for _, a := range out {
		if a.PodName == st.PodName {
			return out
		}
	}
	return append(append([]migv1.RsyncPodStatus(nil), out...), st.RsyncPodStatus)
}

// succeededAttempt is the attempt of a volume that succeeded, or nil.
func succeededAttempt(st *migv1.DirectVolumeMigrationProgressStatus) *migv1.RsyncPodStatus {
	if st.PodPhase == corev1.PodSucceeded {
		return &st.RsyncPodStatus
	}
	for i := len(st.RsyncPodStatuses) - 1; i >= 0; i-- {
		if st.RsyncPodStatuses[i].PodPhase == corev1.PodSucceeded {
			return &st.RsyncPodStatuses[i]
		}
	}
	return nil
}

// warmPassLine is the pipeline's line of a completed pass: "Warm sync pass 2: 10.0 MiB in 3
// files (rsync 1s)".
func warmPassLine(n int, p warmPass) string {
	if !p.Measured {
		return fmt.Sprintf("Warm sync pass %d: completed, changes not measured", n)
	}
	return fmt.Sprintf("Warm sync pass %d: %s in %d files (rsync %s)", n, humanBytes(p.Bytes), p.Files, p.Copying)
}

// humanBytes prints a byte count in binary units, as rsync and kubectl users read them.
func humanBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}
