package cli

import (
	"fmt"
	"strings"
	"time"

	units "github.com/docker/go-units"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/migview"
)

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
	lines := []string{fmt.Sprintf("Migration %s (plan %s, %s): %s", m.Name, planName(m), migview.Kind(m), migview.Phase(m))}
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

// stepLine is "  [done]    Backup            12s".
func stepLine(s *migv1.Step, now time.Time, live bool) string {
	state := "[ ]"
	if st := migview.StepState(s); st != migview.StepPending {
		state = "[" + st + "]"
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
func volumeLine2(v migview.Volume) string {
	percent := v.Percent()
	line := fmt.Sprintf("%-28s %s %3d%%", v.PVC, bar(percent), percent)
	if bytes := v.Bytes(); bytes > 0 {
		line += "  " + units.HumanSize(float64(bytes))
	}
	if rate := v.Rate(); rate != "" {
		line += "  " + rate
	}
	if eta, ok := v.ETA(); ok {
		line += "  ETA " + eta.String()
	}
	return line + "  " + v.State
}

// imageLines are one bar per image stream of a DIM.
func imageLines(dim migv1.DirectImageMigration) []string {
	var out []string
	for _, row := range migview.ImageRows(dim) {
		detail := ""
		if row.Total > 0 {
			detail = fmt.Sprintf("  %d/%d images, %s", row.Copied, row.Total, units.HumanSize(float64(row.Bytes)))
		}
		out = append(out, fmt.Sprintf("    %-28s %s %3d%%%s  %s", "is "+row.Name, bar(row.Percent()), row.Percent(), detail, row.State))
	}
	return out
}
