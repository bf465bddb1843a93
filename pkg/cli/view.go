package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// volumeView is one PVC of the migration's volume copy.
type volumeView struct {
	pvc      string
	state    string
	progress *migv1.DirectVolumeMigrationProgress
}

// volumeState is the PVC's state in the DVM's status: Completed, Failed, Running, Pending.
func volumeState(dvm *migv1.DirectVolumeMigration, ns, name string) string {
	st := dvm.Status
	for _, group := range []struct {
		state string
		pods  []*migv1.PodProgress
	}{{"Completed", st.SuccessfulPods}, {"Failed", st.FailedPods}, {"Running", st.RunningPods}, {"Pending", st.PendingPods}} {
		for _, p := range group.pods {
			if p.PVCReference != nil && p.PVCReference.Namespace == ns && p.PVCReference.Name == name {
				return group.state
			}
		}
	}
	return "Pending"
}

// barWidth is the width of a progress bar's inside.
const barWidth = 24

// bar draws "[#########...............]" for percent.
func bar(percent int) string {
	percent = max(0, min(percent, 100))
	full := percent * barWidth / 100
	return "[" + strings.Repeat("#", full) + strings.Repeat(".", barWidth-full) + "]"
}

// renderView draws the migration: a header, one line per pipeline step with its state and
// duration, under the running step its progress bars. Pure, for tests. Without live (plain
// output, one line per change) a running step shows no clock, which would change every second.
func renderView(st viewState, now time.Time, live bool) []string {
	m := st.migration
	kind := m.Status.Itinerary
	if kind == "" {
		kind = "pending"
	}
	lines := []string{fmt.Sprintf("Migration %s (plan %s, %s): %s", m.Name, planName(m), kind, phaseOf(m))}
	for _, c := range m.Status.Conditions {
		// What keeps it from starting or going on, said where the user looks.
		if conditions.IsBlocker(c) || (c.Category == migv1.CategoryWarn && c.Status == migv1.True) {
			lines = append(lines, fmt.Sprintf("  %s: %s", c.Type, c.Message))
		}
	}
	for _, step := range m.Status.Pipeline {
		lines = append(lines, stepLine(step, now, live))
		if step.Name == "DirectVolume" && step.Started != nil {
			for _, v := range st.volumes {
				lines = append(lines, "    "+volumeLine2(v))
			}
		}
		if step.Name == "DirectImage" && step.Started != nil {
			for _, dim := range st.images {
				lines = append(lines, imageLines(dim)...)
			}
		}
	}
	return lines
}

func planName(m *migv1.MigMigration) string {
	if m.Spec.MigPlanRef == nil {
		return "?"
	}
	return m.Spec.MigPlanRef.Name
}

func phaseOf(m *migv1.MigMigration) string {
	if o := outcomeOf(m); o != "" {
		return o
	}
	if m.Status.Phase == "" {
		return "waiting for the operator"
	}
	return m.Status.Phase
}

// stepLine is "  [done]    Backup            12s".
func stepLine(s *migv1.Step, now time.Time, live bool) string {
	state := "[ ]"
	switch {
	case s.Failed:
		state = "[FAILED]"
	case s.Skipped:
		state = "[skipped]"
	case s.Completed != nil:
		state = "[done]"
	case s.Started != nil:
		state = "[running]"
	}
	line := fmt.Sprintf("  %-9s %-24s", state, s.Name)
	if s.Started != nil && (live || s.Completed != nil) {
		end := now
		if s.Completed != nil {
			end = s.Completed.Time
		}
		line += fmt.Sprintf(" %6s", end.Sub(s.Started.Time).Round(time.Second))
	}
	if s.Started != nil && s.Completed == nil && !s.Failed && s.Phase != "" {
		line += "  " + s.Phase
	}
	return strings.TrimRight(line, " ")
}

// volumeLine2 is "shop/data  [#####.....]  45%  120.0MB  35.2MB/s  ETA 3s  Running".
func volumeLine2(v volumeView) string {
	percent, bytes, rate, elapsed := 0, int64(0), "", time.Duration(0)
	if p := v.progress; p != nil {
		percent, _ = strconv.Atoi(strings.TrimSuffix(p.Status.TotalProgressPercentage, "%"))
		bytes, rate = p.Status.TransferredBytes, p.Status.LastObservedTransferRate
		if p.Status.ContainerElapsedTime != nil {
			elapsed = p.Status.ContainerElapsedTime.Duration
		}
	}
	if v.state == "Completed" {
		percent = 100
	}
	line := fmt.Sprintf("%-28s %s %3d%%", v.pvc, bar(percent), percent)
	if bytes > 0 {
		line += "  " + units.HumanSize(float64(bytes))
	}
	if rate != "" && v.state == "Running" {
		line += "  " + rate
	}
	if eta, ok := estimate(percent, elapsed); ok && v.state == "Running" {
		line += "  ETA " + eta.String()
	}
	return line + "  " + v.state
}

// estimate is the time left of a copy percent done after elapsed, at the same pace.
func estimate(percent int, elapsed time.Duration) (time.Duration, bool) {
	if percent <= 0 || percent >= 100 || elapsed <= 0 {
		return 0, false
	}
	left := time.Duration(float64(elapsed) * float64(100-percent) / float64(percent))
	return left.Round(time.Second), true
}

// imageLines are one bar per image stream of a DIM.
func imageLines(dim migv1.DirectImageMigration) []string {
	var out []string
	st := dim.Status
	for _, group := range []struct {
		state string
		items []*migv1.ImageStreamListItem
	}{{"Running", st.NewISs}, {"Completed", st.SuccessfulISs}, {"Failed", st.FailedISs}} {
		for _, item := range group.items {
			percent := 0
			detail := ""
			if p := item.Progress; p != nil && p.TotalImages > 0 {
				percent = p.CopiedImages * 100 / p.TotalImages
				detail = fmt.Sprintf("  %d/%d images, %s", p.CopiedImages, p.TotalImages, units.HumanSize(float64(p.CopiedBytes)))
			}
			if group.state == "Completed" {
				percent = 100
			}
			out = append(out, fmt.Sprintf("    %-28s %s %3d%%%s  %s", "is "+item.Namespace+"/"+item.Name, bar(percent), percent, detail, group.state))
		}
	}
	return out
}
