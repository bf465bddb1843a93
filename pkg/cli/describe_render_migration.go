package cli

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// describeMigrationText renders `ferry describe migration`. now is the clock the durations
// of running things count to; times are shown in its location.
func describeMigrationText(d *describedMigration, now time.Time) string {
	w := &descWriter{now: now}
	m := d.Migration
	w.migrationHeader(d)
	if line, causes := descFailedStep(d); line != "" {
		w.blank()
		w.line(0, line)
		for _, c := range causes {
			w.line(1, "Caused by: "+descOneLine(c))
		}
	}
	w.blank()
	w.conditions(0, m.Status.Conditions)
	if len(m.Status.Errors) > 0 {
		w.blank()
		w.list(0, "Errors", m.Status.Errors)
	}
	w.unhealthy(m.Status.Namespaces)
	w.blank()
	w.pipeline(m)
	w.lookupErrors(d)
	w.velero(d.Velero)
	w.dvms(d.DVMs)
	w.dims(d.DIMs)
	w.hooks(d.Hooks)
	return w.String()
}

// migrationHeader writes what the migration is and where it stands.
func (w *descWriter) migrationHeader(d *describedMigration) {
	m := d.Migration
	st := m.Status
	plan := descRef(m.Spec.MigPlanRef)
	if d.PlanError != "" {
		plan += " (" + d.PlanError + ")"
	}
	fs := []descField{
		{"Name", m.Name},
		{"Namespace", m.Namespace},
		{"Plan", plan},
		{"Kind", descMigrationKind(m.Spec)},
		{"Quiesce pods", descYesNo(m.Spec.QuiescePods)},
		{"Verify", descYesNo(m.Spec.Verify)},
	}
	if m.Spec.Canceled {
		fs = append(fs, descField{"Canceled", "yes (requested)"})
	}
	fs = append(fs,
		descField{"Itinerary", st.Itinerary},
		descField{"Phase", st.Phase},
		descField{"Started", w.time(st.StartTimestamp)},
	)
	if end := descMigrationEnd(m); end != nil {
		fs = append(fs, descField{"Ended", w.time(end)})
	}
	fs = append(fs, descField{"Elapsed", descMigrationElapsed(m, w.now)})
	fs = append(fs, descField{"Outcome", descMigrationOutcome(m)})
	if pw := st.ProgressWatch; pw != nil && pw.Waiting != "" && st.Phase != itinerary.Completed {
		fs = append(fs, descField{"Waiting for", fmt.Sprintf("%s (unchanged since %s)", pw.Waiting, w.time(&pw.Since))})
	}
	w.fields(0, fs...)
}

// descMigrationKind says what the migration does, from its spec, in the CLI's words (the
// verbs stage, cutover and rollback; "state" for a state migration).
func descMigrationKind(spec migv1.MigMigrationSpec) string {
	switch {
	case spec.Rollback:
		return "rollback"
	case spec.MigrateState:
		return "state"
	case spec.Stage:
		return "stage"
	}
	return "cutover (final)"
}

// descMigrationOutcome summarises the migration's conditions as one word or phrase, in the
// order the operator picks its itinerary: failed, canceled, then how it ended or runs.
func descMigrationOutcome(m *migv1.MigMigration) string {
	c := m.Status.Conditions
	done := m.Status.Phase == itinerary.Completed
	switch {
	case conditions.Find(c, migv1.Failed) != nil || len(m.Status.Errors) > 0:
		if !done {
			return "Failed (cleaning up)"
		}
		return "Failed"
	case conditions.IsTrue(c, migv1.Canceled):
		return "Canceled"
	case conditions.IsTrue(c, migv1.Canceling):
		return "Canceling"
	case conditions.IsTrue(c, migv1.SucceededWithWarnings):
		return "Succeeded with warnings"
	case conditions.IsTrue(c, migv1.Succeeded):
		return "Succeeded"
	case done:
		return "Completed"
	case conditions.IsTrue(c, migv1.Postponed):
		return "Postponed"
	case conditions.IsTrue(c, migv1.Running):
		return "Running"
	}
	for _, cond := range c {
		if conditions.IsBlocker(cond) {
			return "Not started: " + cond.Type
		}
	}
	return "Not started"
}

// descMigrationEnd is when the migration ended: the last step to complete, else the
// transition of the condition that ended it; nil while it runs.
func descMigrationEnd(m *migv1.MigMigration) *metav1.Time {
	if m.Status.Phase != itinerary.Completed {
		return nil
	}
	var end *metav1.Time
	for _, s := range m.Status.Pipeline {
		if s != nil && s.Completed != nil && (end == nil || s.Completed.After(end.Time)) {
			end = s.Completed
		}
	}
	if end != nil {
		return end
	}
	for _, t := range []string{migv1.Succeeded, migv1.SucceededWithWarnings, migv1.Failed, migv1.Canceled} {
		if c := conditions.Find(m.Status.Conditions, t); c != nil && !c.LastTransitionTime.IsZero() {
			return &c.LastTransitionTime
		}
	}
	return nil
}

// descMigrationElapsed is the run time: start to end, or to now while it runs.
func descMigrationElapsed(m *migv1.MigMigration, now time.Time) string {
	start := m.Status.StartTimestamp
	if start == nil {
		return ""
	}
	end := descMigrationEnd(m)
	switch {
	case end != nil:
		return descDuration(end.Sub(start.Time))
	case m.Status.Phase == itinerary.Completed:
		return "" // ended, but nothing says when
	}
	return descDuration(now.Sub(start.Time))
}

// descStepState is the state of a pipeline step, as the operator's step message reads.
func descStepState(s *migv1.Step) string {
	switch {
	case s.Failed:
		return descStepFailed
	case s.Skipped:
		return descStepSkipped
	case s.Completed != nil:
		return descStepCompleted
	case s.Started != nil:
		return descStepRunning
	}
	return descStepNotStarted
}

// descStepDuration is how long a step ran (so far).
func descStepDuration(s *migv1.Step, now time.Time) string {
	if s.Started == nil {
		return ""
	}
	end := now
	if s.Completed != nil {
		end = s.Completed.Time
	}
	return descDuration(end.Sub(s.Started.Time))
}

// pipeline writes the steps as a table followed, per step that has them, by its phase,
// message and progress lines.
func (w *descWriter) pipeline(m *migv1.MigMigration) {
	if len(m.Status.Pipeline) == 0 {
		w.line(0, "Pipeline: <none>")
		return
	}
	w.heading(0, "Pipeline")
	rows := [][]string{}
	for _, s := range m.Status.Pipeline {
		if s == nil {
			continue
		}
		rows = append(rows, []string{s.Name, descStepState(s), w.time(s.Started), descStepDuration(s, w.now)})
	}
	w.table(1, []string{"STEP", "STATE", "STARTED", "DURATION"}, rows)
	for _, s := range m.Status.Pipeline {
		if s == nil || (s.Phase == "" && len(s.Progress) == 0) {
			continue
		}
		w.line(1, s.Name+":")
		msg := s.Message
		if msg == descStepCompleted || msg == descStepFailed || msg == descStepSkipped {
			msg = ""
		}
		w.fields(2, descField{"Phase", s.Phase}, descField{"Message", msg})
		for _, p := range s.Progress {
			w.line(2, descOneLine(p))
		}
	}
}

// unhealthy lists the workloads verification found unhealthy on the destination.
func (w *descWriter) unhealthy(list []migv1.UnhealthyNamespace) {
	if len(list) == 0 {
		return
	}
	w.blank()
	w.heading(0, "Unhealthy workloads")
	for _, ns := range list {
		for _, wl := range ns.Workloads {
			w.line(1, fmt.Sprintf("- %s/%s: %s", ns.Name, wl.Name, strings.Join(wl.Resources, ", ")))
		}
	}
}

// lookupErrors says which objects could not be looked for at all, so that an empty section
// is not mistaken for "there were none".
func (w *descWriter) lookupErrors(d *describedMigration) {
	if len(d.Errors) == 0 {
		return
	}
	w.blank()
	w.list(0, "Not shown", d.Errors)
}

// descFailedStep names the step that failed the migration, the phase it failed in and why,
// with the causes the objects of that step give (an rsync log, a Velero failure reason, a
// hook's log): "" when the migration has not failed.
func descFailedStep(d *describedMigration) (string, []string) {
	m := d.Migration
	failed := conditions.Find(m.Status.Conditions, migv1.Failed)
	if failed == nil && len(m.Status.Errors) == 0 {
		return "", nil
	}
	name, phase := "", ""
	if failed != nil {
		phase = failed.Reason
	}
	for _, s := range m.Status.Pipeline {
		if s != nil && s.Failed {
			name = s.Name
			if s.Phase != "" {
				phase = s.Phase
			}
			break
		}
	}
	why := ""
	switch {
	case len(m.Status.Errors) > 0:
		why = m.Status.Errors[0]
	case failed != nil:
		why = failed.Message
	}
	line := "Failed step: "
	if name == "" {
		line += "unknown"
	} else {
		line += name
	}
	if phase != "" {
		line += " (phase " + phase + ")"
	}
	if why != "" {
		line += ": " + why
	}
	return descOneLine(line), descCauses(d, name)
}

// descStepOfRole is the pipeline step of a Velero object or hook Job, by the role the
// operator records it with in status.references.
func descStepOfRole(role string) string {
	switch role {
	case "InitialBackup":
		return "Backup"
	case "FinalRestore":
		return "Restore"
	case "StageBackup", "StageRestore":
		return role
	}
	if phase, ok := strings.CutSuffix(role, "Hook"); ok {
		return phase + "Hooks"
	}
	return ""
}

// descCauses are the failures the objects of the failed step report, so that the cause
// shows next to the failed step instead of sections below. The step names are the
// operator's (controllers/migmigration/itineraries.go): DVMs run in DirectVolume, and in
// RollbackLiveMigration for a rollback.
func descCauses(d *describedMigration, step string) []string {
	var out []string
	for _, v := range d.Velero {
		if descStepOfRole(v.Ref.Role) == step {
			out = append(out, v.cause()...)
		}
	}
	if step == "DirectVolume" || step == "RollbackLiveMigration" {
		for _, dvm := range d.DVMs {
			out = append(out, dvm.causes()...)
		}
	}
	if step == "DirectImage" {
		for _, dim := range d.DIMs {
			out = append(out, dim.causes()...)
		}
	}
	for _, h := range d.Hooks {
		if descStepOfRole(h.Ref.Role) == step {
			out = append(out, h.cause()...)
		}
	}
	return out
}
