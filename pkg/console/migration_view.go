package console

import (
	"fmt"
	"time"

	units "github.com/docker/go-units"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/migview"
)

// migrationData is the migration page's live part, computed from the API objects by
// migrationView (pure, tested with tables).
type migrationData struct {
	Name, Plan, Kind, Phase, Outcome string
	// Ended: the migration succeeded, failed or was canceled; Canceling: spec.canceled is set.
	Ended, Canceling bool
	// Notices are the conditions that keep it from starting or going on, and its warnings.
	Notices []migv1.Condition
	Steps   []stepRow
	Failure *failure
}

type stepRow struct {
	Name, State, Duration, Phase, Message string
	// Started is when a running step started (RFC 3339), for the page's script to tick its
	// clock without asking the server.
	Started  string
	Progress []string
	Volumes  []barRow
	Images   []barRow
}

// barRow is a progress bar: a volume or an image stream.
type barRow struct {
	Name, State string
	Percent     int
	// Detail is what the CLI prints next to the bar: bytes, rate, ETA, or images copied.
	Bytes, Rate, ETA, Images string
}

// failure is what the failure view shows: the failed step, the reason and what went wrong.
type failure struct {
	Step, StepMessage, Reason, Message string
	Errors                             []string
}

func migrationView(m *migv1.MigMigration, volumes []migview.Volume, dims []migv1.DirectImageMigration, now time.Time) migrationData {
	d := migrationData{Name: m.Name, Plan: refName(m.Spec.MigPlanRef), Kind: migview.Kind(m), Phase: migview.Phase(m),
		Outcome: migview.Outcome(m), Canceling: m.Spec.Canceled}
	d.Ended = d.Outcome != ""
	for _, c := range m.Status.Conditions {
		if conditions.IsBlocker(c) || (c.Category == migv1.CategoryWarn && c.Status == migv1.True) {
			d.Notices = append(d.Notices, c)
		}
	}
	for _, step := range m.Status.Pipeline {
		st := stepRow{Name: step.Name, State: migview.StepState(step), Message: step.Message, Progress: step.Progress}
		if st.State == migview.StepRunning {
			st.Phase = step.Phase
		}
		if step.Started != nil && (step.Completed != nil || st.State == migview.StepRunning) {
			end := now
			if step.Completed != nil {
				end = step.Completed.Time
			}
			st.Duration = end.Sub(step.Started.Time).Round(time.Second).String()
			if step.Completed == nil {
				st.Started = step.Started.UTC().Format(time.RFC3339)
			}
		}
		if step.Name == "DirectVolume" && step.Started != nil {
			for _, v := range volumes {
				st.Volumes = append(st.Volumes, volumeBar(v))
			}
		}
		if step.Name == "DirectImage" && step.Started != nil {
			for _, dim := range dims {
				for _, img := range migview.ImageRows(dim) {
					b := barRow{Name: img.Name, State: img.State, Percent: img.Percent()}
					if img.Total > 0 {
						b.Images = fmt.Sprintf("%d/%d images, %s", img.Copied, img.Total, units.HumanSize(float64(img.Bytes)))
					}
					st.Images = append(st.Images, b)
				}
			}
		}
		d.Steps = append(d.Steps, st)
	}
	if d.Outcome == migv1.Failed {
		d.Failure = failureOf(m)
	}
	return d
}

func volumeBar(v migview.Volume) barRow {
	b := barRow{Name: v.PVC, State: v.State, Percent: v.Percent(), Rate: v.Rate()}
	if n := v.Bytes(); n > 0 {
		b.Bytes = units.HumanSize(float64(n))
	}
	if eta, ok := v.ETA(); ok {
		b.ETA = eta.String()
	}
	return b
}

// failureOf explains a failed migration: the first failed step with its message, the
// Failed condition's reason and message, and the migration's errors (a hook's log tail, a
// Velero reason...).
func failureOf(m *migv1.MigMigration) *failure {
	f := &failure{Errors: m.Status.Errors}
	if step := migview.FailedStep(m); step != nil {
		f.Step, f.StepMessage = step.Name, step.Message
	}
	if c := conditions.Find(m.Status.Conditions, migv1.Failed); c != nil {
		f.Reason, f.Message = c.Reason, c.Message
	}
	return f
}
