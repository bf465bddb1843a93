package cli

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

// This file turns what `ferry describe` read into text. Nothing here talks to a cluster, so
// every layout decision can be tested with objects built in memory (describe_test.go).

// describedMigration is everything `describe migration` shows: the migration and the objects
// it created, read before anything is printed. An object that could not be read keeps its
// name and the reason, so that the output says what is missing instead of hiding it.
type describedMigration struct {
	Migration *migv1.MigMigration
	// Plan is nil when it could not be read; PlanError says why.
	Plan      *migv1.MigPlan
	PlanError string
	Velero    []describedVelero
	DVMs      []describedDVM
	DIMs      []describedDIM
	Hooks     []describedHook
	// Errors are lookups that failed as a whole (listing the DVMs, ...).
	Errors []string
}

// describedVelero is a Backup or Restore named in status.references.
type describedVelero struct {
	Ref     migv1.MigrationReference
	Backup  *velerov1.Backup
	Restore *velerov1.Restore
	Error   string
}

// describedDVM is a DirectVolumeMigration of the migration with its progress objects.
type describedDVM struct {
	Namespace, Name string
	DVM             *migv1.DirectVolumeMigration
	Progress        []migv1.DirectVolumeMigrationProgress
	Error           string
}

// describedDIM is a DirectImageMigration of the migration.
type describedDIM struct {
	Namespace, Name string
	DIM             *migv1.DirectImageMigration
	Error           string
}

// describedHook is a hook Job of the migration, with the log tail of its latest pod.
type describedHook struct {
	Ref migv1.MigrationReference
	Job *batchv1.Job
	Pod string
	Log string
	// LogNote says why no log is shown: not readable, empty, no pod.
	LogNote string
	Error   string
}

// describedPlan is what `describe plan` shows: the plan and its migrations.
type describedPlan struct {
	Plan            *migv1.MigPlan
	Migrations      []migv1.MigMigration
	MigrationsError string
}

// Step states of the pipeline, in MTC's words (the operator's step messages).
const (
	descStepCompleted  = "Completed"
	descStepFailed     = "Failed"
	descStepSkipped    = "Skipped"
	descStepRunning    = "Running"
	descStepNotStarted = "Not started"
)

// descLogLines is how many lines of a hook pod's log describe shows, as the operator puts in
// a hook failure's message.
const descLogLines = 20

// descWriter builds describe's plain text: "Title:" headings, aligned "Key: value" blocks
// and tables, each at an indentation level of two spaces, like `velero backup describe`.
type descWriter struct {
	b   strings.Builder
	now time.Time
}

// descField is one "Key: value" line; a field with an empty value is left out, so callers
// list every field and the output shows only what is known.
type descField struct{ Key, Value string }

func descIndent(level int) string { return strings.Repeat("  ", level) }

func (w *descWriter) String() string { return w.b.String() }

// line writes one line at level.
func (w *descWriter) line(level int, text string) {
	w.b.WriteString(descIndent(level) + text + "\n")
}

// blank separates sections.
func (w *descWriter) blank() { w.b.WriteString("\n") }

// heading starts a section.
func (w *descWriter) heading(level int, title string) { w.line(level, title+":") }

// fields writes key-value lines with the values aligned on one column, two spaces after the
// longest key (kubectl describe's layout).
func (w *descWriter) fields(level int, fs ...descField) {
	width := 0
	for _, f := range fs {
		if f.Value != "" && len(f.Key) > width {
			width = len(f.Key)
		}
	}
	for _, f := range fs {
		if f.Value == "" {
			continue
		}
		w.line(level, fmt.Sprintf("%-*s%s", width+3, f.Key+":", descOneLine(f.Value)))
	}
}

// list writes a heading and its items as "- item" lines; nothing when there are none.
func (w *descWriter) list(level int, title string, items []string) {
	if len(items) == 0 {
		return
	}
	w.heading(level, title)
	for _, it := range items {
		w.line(level+1, "- "+descOneLine(it))
	}
}

// text writes a heading and a multi-line text (a log) indented under it, as it is.
func (w *descWriter) text(level int, title, text string) {
	text = strings.TrimRight(text, "\n ")
	if text == "" {
		return
	}
	w.heading(level, title)
	for _, l := range strings.Split(text, "\n") {
		w.line(level+1, strings.TrimRight(l, "\r"))
	}
}

// table writes rows under an upper-case header, columns aligned; an empty cell shows "-"
// so that columns stay readable and a reader can tell an unknown value from a missing column.
func (w *descWriter) table(level int, header []string, rows [][]string) {
	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	write := func(cells []string) {
		out := make([]string, len(cells))
		for i, c := range cells {
			c = descOneLine(c)
			if c == "" {
				c = "-"
			}
			out[i] = c
		}
		_, _ = fmt.Fprintln(tw, descIndent(level)+strings.Join(out, "\t"))
	}
	write(header)
	for _, r := range rows {
		write(r)
	}
	_ = tw.Flush()
	for _, l := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		w.b.WriteString(strings.TrimRight(l, " ") + "\n")
	}
}

// conditions writes MTC conditions as a table, or says there are none.
func (w *descWriter) conditions(level int, list migv1.Conditions) {
	if len(list) == 0 {
		w.line(level, "Conditions: <none>")
		return
	}
	w.heading(level, "Conditions")
	rows := make([][]string, 0, len(list))
	for _, c := range list {
		rows = append(rows, []string{c.Type, c.Status, c.Category, c.Reason, c.Message})
	}
	w.table(level+1, []string{"TYPE", "STATUS", "CATEGORY", "REASON", "MESSAGE"}, rows)
}

// time formats a timestamp in the location of the writer's clock, with how long ago.
func (w *descWriter) time(t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	ago := w.now.Sub(t.Time).Round(time.Second)
	s := t.In(w.now.Location()).Format("2006-01-02 15:04:05 -0700 MST")
	if ago >= 0 {
		s += " (" + ago.String() + " ago)"
	}
	return s
}

// descOneLine keeps a value on its line: messages from the API may hold newlines, which
// would break the alignment of fields and tables.
func descOneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// descOr is s, or fallback when s is empty: for fields that must show even when unset.
func descOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func descYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func descDuration(d time.Duration) string {
	return max(d, 0).Round(time.Second).String()
}

// descRef names an object reference "namespace/name" (or "name" without a namespace).
func descRef(ref *corev1.ObjectReference) string {
	if ref == nil {
		return ""
	}
	if ref.Namespace == "" {
		return ref.Name
	}
	return ref.Namespace + "/" + ref.Name
}

func descKey(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// ---- migration --------------------------------------------------------------------------

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

// ---- Velero -----------------------------------------------------------------------------

func (v describedVelero) title() string {
	return fmt.Sprintf("%s %s (%s, on the %s cluster)", v.Ref.Kind, descKey(v.Ref.Namespace, v.Ref.Name), v.Ref.Role, v.Ref.Cluster)
}

// outcome is the operator's reading of the Backup's or Restore's phase.
func (v describedVelero) outcome() (veleroadapter.Outcome, bool) {
	switch {
	case v.Backup != nil:
		return veleroadapter.BackupOutcome(v.Backup), true
	case v.Restore != nil:
		return veleroadapter.RestoreOutcome(v.Restore), true
	}
	return veleroadapter.Outcome{}, false
}

// cause is the Backup's or Restore's failure as the operator reads it, or why it could not
// be read; nothing when it did not fail.
func (v describedVelero) cause() []string {
	if v.Error != "" {
		return []string{v.title() + ": " + v.Error}
	}
	o, ok := v.outcome()
	if !ok || (o.State != veleroadapter.Failed && o.State != veleroadapter.PartiallyFailed) {
		return nil
	}
	return []string{fmt.Sprintf("%s %s: %s", v.Ref.Kind, descKey(v.Ref.Namespace, v.Ref.Name), o.Message)}
}

// velero writes the Backups and Restores of the migration with their counts and failures.
func (w *descWriter) velero(list []describedVelero) {
	if len(list) == 0 {
		return
	}
	w.blank()
	w.heading(0, "Velero backups and restores")
	for _, v := range list {
		w.line(1, v.title()+":")
		switch {
		case v.Error != "":
			w.line(2, v.Error)
		case v.Backup != nil:
			w.backup(v.Backup)
		case v.Restore != nil:
			w.restore(v.Restore)
		}
	}
}

// backup writes a Backup's phase, item counts and failure, as `velero backup describe` does.
func (w *descWriter) backup(b *velerov1.Backup) {
	st := b.Status
	items := ""
	if p := st.Progress; p != nil {
		items = fmt.Sprintf("%d of %d backed up", p.ItemsBackedUp, p.TotalItems)
	}
	o := veleroadapter.BackupOutcome(b)
	w.fields(2,
		descField{"Phase", string(st.Phase)},
		descField{"Outcome", descVeleroOutcome(o)},
		descField{"Items", items},
		descField{"Errors", strconv.Itoa(st.Errors)},
		descField{"Warnings", strconv.Itoa(st.Warnings)},
		descField{"Failure reason", st.FailureReason},
		descField{"Started", w.time(st.StartTimestamp)},
		descField{"Completed", w.time(st.CompletionTimestamp)},
	)
	w.list(2, "Validation errors", st.ValidationErrors)
}

// restore writes a Restore's phase, item counts and failure.
func (w *descWriter) restore(r *velerov1.Restore) {
	st := r.Status
	items := ""
	if p := st.Progress; p != nil {
		items = fmt.Sprintf("%d of %d restored", p.ItemsRestored, p.TotalItems)
	}
	o := veleroadapter.RestoreOutcome(r)
	w.fields(2,
		descField{"Backup", r.Spec.BackupName},
		descField{"Phase", string(st.Phase)},
		descField{"Outcome", descVeleroOutcome(o)},
		descField{"Items", items},
		descField{"Errors", strconv.Itoa(st.Errors)},
		descField{"Warnings", strconv.Itoa(st.Warnings)},
		descField{"Failure reason", st.FailureReason},
		descField{"Started", w.time(st.StartTimestamp)},
		descField{"Completed", w.time(st.CompletionTimestamp)},
	)
	w.list(2, "Validation errors", st.ValidationErrors)
}

func descVeleroOutcome(o veleroadapter.Outcome) string {
	if o.Message == "" {
		return o.State.String()
	}
	return o.State.String() + ": " + o.Message
}

// ---- DirectVolumeMigrations -------------------------------------------------------------

// descPVCState is one PVC row of a DVM: its state and the rsync pod that shows it.
type descPVCState struct {
	state string
	pod   *migv1.PodProgress
}

// descPVCStates reads each PVC's state from the DVM's pod lists, keyed "namespace/name" of the
// source PVC; the worst list wins (a failed operation over a running retry).
func descPVCStates(st *migv1.DirectVolumeMigrationStatus) map[string]descPVCState {
	out := map[string]descPVCState{}
	groups := []struct {
		state string
		pods  []*migv1.PodProgress
	}{
		{"Unknown", st.UnknownPods},
		{"Pending", st.PendingPods},
		{"Pending over 10m", st.PendingSinceTimeLimitPods},
		{"Running", st.RunningPods},
		{"Completed", st.SuccessfulPods},
		{"Failed", st.FailedPods},
	}
	for _, g := range groups {
		for _, p := range g.pods {
			if p == nil || p.PVCReference == nil {
				continue
			}
			out[descKey(p.PVCReference.Namespace, p.PVCReference.Name)] = descPVCState{state: g.state, pod: p}
		}
	}
	return out
}

// descRsyncOperation is the DVM's rsync operation of a source PVC, which counts its attempts.
func descRsyncOperation(st *migv1.DirectVolumeMigrationStatus, pvc *corev1.ObjectReference) *migv1.RsyncOperation {
	for _, op := range st.RsyncOperations {
		if op != nil && op.PVCReference != nil && op.PVCReference.Name == pvc.Name && op.PVCReference.Namespace == pvc.Namespace {
			return op
		}
	}
	return nil
}

// descPVCRow is a DVM's line for one PVC: source, target, state, attempt, progress.
func descPVCRow(dvm *migv1.DirectVolumeMigration, p migv1.PVCToMigrate, states map[string]descPVCState) []string {
	src := corev1.ObjectReference{}
	if p.ObjectReference != nil {
		src = *p.ObjectReference
	}
	targetNS, targetName := p.TargetNamespace, p.TargetName
	if targetNS == "" {
		targetNS = src.Namespace
	}
	if targetName == "" {
		targetName = src.Name
	}
	key := descKey(src.Namespace, src.Name)
	s, found := states[key]
	attempt := ""
	op := descRsyncOperation(&dvm.Status, &src)
	if op != nil && op.CurrentAttempt > 0 {
		attempt = strconv.Itoa(op.CurrentAttempt)
	}
	state := s.state
	switch {
	case op != nil && op.Failed:
		state = "Failed"
	case op != nil && op.Succeeded:
		state = "Completed"
	case found:
	case slices.Contains(dvm.Status.SkippedVolumes, key):
		state = "Skipped"
	case op != nil:
		state = "Running"
	default:
		state = "Not started"
	}
	var percent, rate, elapsed, pod string
	if s.pod != nil {
		percent, rate = s.pod.LastObservedProgressPercent, s.pod.LastObservedTransferRate
		if s.pod.TotalElapsedTime != nil {
			elapsed = descDuration(s.pod.TotalElapsedTime.Duration)
		}
		if s.pod.ObjectReference != nil {
			pod = s.pod.Name
		}
	}
	return []string{key, descKey(targetNS, targetName), state, attempt, percent, rate, elapsed, pod}
}

func (d describedDVM) title() string {
	return "DirectVolumeMigration " + descKey(d.Namespace, d.Name)
}

// causes are what the DVM says about its failure: its own errors when it has no progress
// objects to tell more, and every rsync attempt that failed with its log's last line.
func (d describedDVM) causes() []string {
	if d.Error != "" {
		return []string{d.title() + ": " + d.Error}
	}
	var out []string
	for i := range d.Progress {
		if c := descDVMPCause(d.DVM, &d.Progress[i]); c != "" {
			out = append(out, c)
		}
	}
	if len(out) == 0 && d.DVM != nil {
		for _, e := range d.DVM.Status.Errors {
			out = append(out, d.title()+": "+e)
		}
	}
	return out
}

// descDVMPCause is "rsync of PVC ns/name failed (pod p, exit code 11): <last log line>", or
// "" when the DVMP shows no failure.
func descDVMPCause(dvm *migv1.DirectVolumeMigration, p *migv1.DirectVolumeMigrationProgress) string {
	st := p.Status
	exit := st.ExitCode != nil && *st.ExitCode != 0
	if !exit && st.PodPhase != corev1.PodFailed && !conditions.HasBlocker(st.Conditions) {
		return ""
	}
	what := []string{}
	if st.PodName != "" {
		what = append(what, "pod "+descKey(p.Spec.PodNamespace, st.PodName))
	}
	if exit {
		what = append(what, fmt.Sprintf("exit code %d", *st.ExitCode))
	}
	msg := "rsync of PVC " + descDVMPVolume(dvm, p) + " failed"
	if len(what) > 0 {
		msg += " (" + strings.Join(what, ", ") + ")"
	}
	if last := descLastLine(st.LogMessage); last != "" {
		msg += ": " + last
	}
	for _, c := range st.Conditions {
		if conditions.IsBlocker(c) {
			msg += "; " + c.Type + ": " + c.Message
		}
	}
	return msg
}

// descDVMPVolume names the source PVC of a DVMP: the operator names each DVMP after its DVM
// and PVC (transfer.ProgressName); a DVMP named otherwise (MTC's) shows its pod namespace.
func descDVMPVolume(dvm *migv1.DirectVolumeMigration, p *migv1.DirectVolumeMigrationProgress) string {
	if dvm != nil {
		for _, pvc := range dvm.Spec.PersistentVolumeClaims {
			if pvc.ObjectReference != nil && transfer.ProgressName(dvm.Name, pvc.Name, pvc.Namespace) == p.Name {
				return descKey(pvc.Namespace, pvc.Name)
			}
		}
	}
	return descKey(p.Spec.PodNamespace, "?")
}

// descLastLine is the last non-empty line of a log.
func descLastLine(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// dvms writes each DVM: where it stands, its per-PVC table, and each PVC's rsync progress
// object with the exit code and log tail of its latest attempt.
func (w *descWriter) dvms(list []describedDVM) {
	if len(list) == 0 {
		return
	}
	w.blank()
	w.heading(0, "Direct volume migrations")
	for _, d := range list {
		w.line(1, d.title()+":")
		if d.Error != "" {
			w.line(2, d.Error)
			continue
		}
		w.dvm(d)
	}
}

// dvm writes where a DVM stands, a row per PVC, and the rsync progress of each.
func (w *descWriter) dvm(d describedDVM) {
	dvm := d.DVM
	st := dvm.Status
	kind := ""
	if dvm.Spec.MigrationType != nil {
		kind = string(*dvm.Spec.MigrationType)
	}
	w.fields(2,
		descField{"Type", kind},
		descField{"Itinerary", st.Itinerary},
		descField{"Phase", st.Phase},
		descField{"Description", st.PhaseDescription},
		descField{"Started", w.time(st.StartTimestamp)},
	)
	w.list(2, "Errors", st.Errors)
	w.conditions(2, st.Conditions)
	if len(dvm.Spec.PersistentVolumeClaims) > 0 {
		states := descPVCStates(&st)
		rows := make([][]string, 0, len(dvm.Spec.PersistentVolumeClaims))
		for _, p := range dvm.Spec.PersistentVolumeClaims {
			rows = append(rows, descPVCRow(dvm, p, states))
		}
		w.heading(2, "Volumes")
		w.table(3, []string{"PVC", "TARGET", "STATE", "ATTEMPT", "PROGRESS", "RATE", "ELAPSED", "POD"}, rows)
	}
	w.liveMigrations(st)
	if len(d.Progress) > 0 {
		w.heading(2, "Rsync progress (DirectVolumeMigrationProgress)")
		for i := range d.Progress {
			w.dvmp(dvm, &d.Progress[i])
		}
	}
}

// liveMigrations writes the KubeVirt storage live migrations of a DVM, when it has any.
func (w *descWriter) liveMigrations(st migv1.DirectVolumeMigrationStatus) {
	var rows [][]string
	for _, g := range []struct {
		state string
		list  []*migv1.LiveMigrationProgress
	}{{"Running", st.RunningLiveMigrations}, {"Pending", st.PendingLiveMigrations}, {"Completed", st.SuccessfulLiveMigrations}, {"Failed", st.FailedLiveMigrations}} {
		for _, l := range g.list {
			if l == nil {
				continue
			}
			elapsed := ""
			if l.TotalElapsedTime != nil {
				elapsed = descDuration(l.TotalElapsedTime.Duration)
			}
			rows = append(rows, []string{descKey(l.VMNamespace, l.VMName), descRef(l.PVCReference), g.state, l.LastObservedProgressPercent, elapsed, l.Message})
		}
	}
	if len(rows) == 0 {
		return
	}
	w.heading(2, "Live migrations")
	w.table(3, []string{"VM", "PVC", "STATE", "PROGRESS", "ELAPSED", "MESSAGE"}, rows)
}

// dvmp writes one PVC's rsync progress: the latest attempt's pod, exit code and log tail,
// which is where rsync says why it failed.
func (w *descWriter) dvmp(dvm *migv1.DirectVolumeMigration, p *migv1.DirectVolumeMigrationProgress) {
	st := p.Status
	w.line(3, fmt.Sprintf("%s (PVC %s):", p.Name, descDVMPVolume(dvm, p)))
	pod := ""
	if st.PodName != "" {
		pod = descKey(p.Spec.PodNamespace, st.PodName)
		if st.PodPhase != "" {
			pod += " (" + string(st.PodPhase) + ")"
		}
	}
	progress := st.TotalProgressPercentage
	if progress == "" {
		progress = st.LastObservedProgressPercent
	}
	elapsed := ""
	if st.ContainerElapsedTime != nil {
		elapsed = descDuration(st.ContainerElapsedTime.Duration)
	}
	if st.RsyncElapsedTime != nil {
		all := "all attempts " + descDuration(st.RsyncElapsedTime.Duration)
		if elapsed == "" {
			elapsed = all
		} else {
			elapsed += " (" + all + ")"
		}
	}
	exit := ""
	if st.ExitCode != nil {
		exit = strconv.Itoa(int(*st.ExitCode))
	}
	attempts := ""
	if n := len(st.RsyncPodStatuses); n > 0 {
		attempts = fmt.Sprintf("%d finished", n)
	}
	w.fields(4,
		descField{"Pod", pod},
		descField{"Progress", progress},
		descField{"Transfer rate", st.LastObservedTransferRate},
		descField{"Elapsed", elapsed},
		descField{"Exit code", exit},
		descField{"Attempts", attempts},
	)
	w.text(4, "Rsync log (last lines)", st.LogMessage)
	if len(st.Conditions) > 0 {
		w.conditions(4, st.Conditions)
	}
}

// ---- DirectImageMigrations --------------------------------------------------------------

func (d describedDIM) title() string {
	return "DirectImageMigration " + descKey(d.Namespace, d.Name)
}

// causes are the errors of the image streams that failed, else the DIM's own errors.
func (d describedDIM) causes() []string {
	if d.Error != "" {
		return []string{d.title() + ": " + d.Error}
	}
	if d.DIM == nil {
		return nil
	}
	var out []string
	for _, is := range d.DIM.Status.FailedISs {
		if is != nil && is.ObjectReference != nil {
			out = append(out, fmt.Sprintf("ImageStream %s: %s", descKey(is.Namespace, is.Name), strings.Join(is.Errors, "; ")))
		}
	}
	if len(out) == 0 {
		for _, e := range d.DIM.Status.Errors {
			out = append(out, d.title()+": "+e)
		}
	}
	return out
}

// descCopyProgress reads "3/5 images, 120MB of 300MB copied", as the operator's progress lines.
func descCopyProgress(p *migv1.ImageCopyProgress) string {
	if p == nil || p.TotalImages == 0 {
		return ""
	}
	out := fmt.Sprintf("%d/%d images, %s of %s copied", p.CopiedImages, p.TotalImages,
		units.HumanSize(float64(p.CopiedBytes)), units.HumanSize(float64(p.TotalBytes)))
	if p.BytesPerSecond > 0 {
		out += ", " + units.HumanSize(float64(p.BytesPerSecond)) + "/s"
	}
	return out
}

// dims writes the migration's DirectImageMigrations.
func (w *descWriter) dims(list []describedDIM) {
	if len(list) == 0 {
		return
	}
	w.blank()
	w.heading(0, "Direct image migrations")
	for _, d := range list {
		w.line(1, d.title()+":")
		if d.Error != "" {
			w.line(2, d.Error)
			continue
		}
		w.dim(d.DIM)
	}
}

// dim writes where a DIM stands and a line per image stream it copies.
func (w *descWriter) dim(dim *migv1.DirectImageMigration) {
	st := dim.Status
	w.fields(2,
		descField{"Itinerary", st.Itinerary},
		descField{"Phase", st.Phase},
		descField{"Started", w.time(st.StartTimestamp)},
		descField{"Progress", descCopyProgress(st.Progress)},
	)
	w.list(2, "Errors", st.Errors)
	w.conditions(2, st.Conditions)
	var rows [][]string
	for _, g := range []struct {
		state string
		list  []*migv1.ImageStreamListItem
	}{{"Running", st.NewISs}, {"Completed", st.SuccessfulISs}, {"Failed", st.FailedISs}, {"Deleted", st.DeletedISs}} {
		for _, is := range g.list {
			if is != nil && is.ObjectReference != nil {
				rows = append(rows, []string{descKey(is.Namespace, is.Name), is.DestNamespace, g.state, descCopyProgress(is.Progress), strings.Join(is.Errors, "; ")})
			}
		}
	}
	if len(rows) > 0 {
		w.heading(2, "Image streams")
		w.table(3, []string{"IMAGESTREAM", "DESTINATION NAMESPACE", "STATE", "PROGRESS", "ERRORS"}, rows)
	}
}

// ---- hooks ------------------------------------------------------------------------------

func (h describedHook) title() string {
	return fmt.Sprintf("Job %s (%s, on the %s cluster)", descKey(h.Ref.Namespace, h.Ref.Name), h.Ref.Role, h.Ref.Cluster)
}

// descJobState is Succeeded, Failed with the Job's reason, or Running with its pod counts.
func descJobState(job *batchv1.Job) string {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return "Succeeded"
		case batchv1.JobFailed:
			return descOneLine(strings.TrimRight(fmt.Sprintf("Failed: %s: %s", c.Reason, c.Message), ": "))
		}
	}
	return fmt.Sprintf("Running (%d active, %d failed)", job.Status.Active, job.Status.Failed)
}

// cause is a failed hook Job's reason and the last line its script logged.
func (h describedHook) cause() []string {
	if h.Error != "" {
		return []string{h.title() + ": " + h.Error}
	}
	if h.Job == nil {
		return nil
	}
	state := descJobState(h.Job)
	if !strings.HasPrefix(state, "Failed") {
		return nil
	}
	msg := fmt.Sprintf("Job %s: %s", descKey(h.Ref.Namespace, h.Ref.Name), state)
	if last := descLastLine(h.Log); last != "" {
		msg += "; last log line: " + last
	}
	return []string{msg}
}

// hooks writes the migration's hook Jobs with the log tail of their latest pod.
func (w *descWriter) hooks(list []describedHook) {
	if len(list) == 0 {
		return
	}
	w.blank()
	w.heading(0, "Hooks")
	for _, h := range list {
		w.line(1, h.title()+":")
		if h.Error != "" {
			w.line(2, h.Error)
			continue
		}
		w.fields(2,
			descField{"State", descJobState(h.Job)},
			descField{"Started", w.time(h.Job.Status.StartTime)},
			descField{"Pod", h.Pod},
			descField{"Log", h.LogNote},
		)
		w.text(2, fmt.Sprintf("Log (last %d lines)", descLogLines), h.Log)
	}
}

// ---- plan -------------------------------------------------------------------------------

// describePlanText renders `ferry describe plan`.
func describePlanText(d *describedPlan, now time.Time) string {
	w := &descWriter{now: now}
	p := d.Plan
	w.planHeader(p)
	w.blank()
	w.planNamespaces(p)
	w.blank()
	w.planVolumes(p.Spec.PersistentVolumes)
	w.blank()
	w.planHooks(p.Spec.Hooks)
	w.blank()
	w.conditions(0, p.Status.Conditions)
	w.blank()
	w.planMigrations(d)
	return w.String()
}

// planHeader writes the plan's clusters, repository and how it migrates.
func (w *descWriter) planHeader(p *migv1.MigPlan) {
	spec := p.Spec
	planType := ""
	if c := conditions.Find(p.Status.Conditions, migv1.MigrationTypeIdentified); c != nil {
		planType = c.Reason
	}
	volumes, images := "direct", "direct"
	if spec.IndirectVolumeMigration {
		volumes = "indirect (Velero and Restic)"
	}
	if spec.IndirectImageMigration {
		images = "indirect (Velero)"
	}
	live, selector := "", ""
	if spec.LiveMigrate != nil {
		live = descYesNo(*spec.LiveMigrate)
	}
	if spec.LabelSelector != nil {
		selector = metav1.FormatLabelSelector(spec.LabelSelector)
	}
	included := make([]string, 0, len(spec.IncludedResources))
	for _, gk := range spec.IncludedResources {
		if gk != nil {
			included = append(included, gk.String())
		}
	}
	w.fields(0,
		descField{"Name", p.Name},
		descField{"Namespace", p.Namespace},
		descField{"Ready", descYesNo(conditions.IsTrue(p.Status.Conditions, migv1.Ready))},
		descField{"Closed", descYesNo(spec.Closed)},
		descField{"Type", planType},
		descField{"Source cluster", descRef(spec.SrcMigClusterRef)},
		descField{"Destination cluster", descRef(spec.DestMigClusterRef)},
		descField{"Replication repository", descRef(spec.MigStorageRef)},
		descField{"Volume migration", volumes},
		descField{"Image migration", images},
		descField{"Live migration", live},
		descField{"Label selector", selector},
		descField{"Included resources", strings.Join(included, ", ")},
	)
}

// planNamespaces writes the "src:dest" namespace mappings as two columns.
func (w *descWriter) planNamespaces(p *migv1.MigPlan) {
	if len(p.Spec.Namespaces) == 0 {
		w.line(0, "Namespaces: <none>")
		return
	}
	w.heading(0, "Namespaces")
	rows := make([][]string, 0, len(p.Spec.Namespaces))
	for _, entry := range p.Spec.Namespaces {
		src, dest, err := mapping.Parse(entry)
		if err != nil {
			rows = append(rows, []string{entry, "(invalid: " + err.Error() + ")"})
			continue
		}
		rows = append(rows, []string{src, dest})
	}
	w.table(1, []string{"SOURCE", "DESTINATION"}, rows)
}

// planVolumes writes the plan's PVs with what the user selected for each.
func (w *descWriter) planVolumes(pvs []migv1.PV) {
	if len(pvs) == 0 {
		w.line(0, "Persistent volumes: <none>")
		return
	}
	w.heading(0, "Persistent volumes")
	rows := make([][]string, 0, len(pvs))
	for _, pv := range pvs {
		pvc := pv.PVC.Name
		if src, dest, err := mapping.Parse(pv.PVC.Name); err == nil {
			pvc = descKey(pv.PVC.Namespace, src)
			if dest != src {
				pvc += " -> " + dest
			}
		}
		verify := ""
		if pv.Selection.CopyMethod != "" || pv.Selection.Verify {
			verify = descYesNo(pv.Selection.Verify)
		}
		capacity := ""
		if !pv.Capacity.IsZero() {
			capacity = pv.Capacity.String()
		}
		rows = append(rows, []string{pv.Name, pvc, capacity, pv.StorageClass, pv.Selection.Action,
			pv.Selection.StorageClass, string(pv.Selection.AccessMode), pv.Selection.CopyMethod, verify})
	}
	w.table(1, []string{"PV", "PVC", "CAPACITY", "STORAGE CLASS", "ACTION", "TARGET STORAGE CLASS", "ACCESS MODE", "COPY METHOD", "VERIFY"}, rows)
}

// planHooks writes the hooks the plan runs and where.
func (w *descWriter) planHooks(hooks []migv1.MigPlanHook) {
	if len(hooks) == 0 {
		w.line(0, "Hooks: <none>")
		return
	}
	w.heading(0, "Hooks")
	rows := make([][]string, 0, len(hooks))
	for _, h := range hooks {
		rows = append(rows, []string{h.Phase, descRef(h.Reference), h.ExecutionNamespace, h.ServiceAccount})
	}
	w.table(1, []string{"PHASE", "MIGHOOK", "EXECUTION NAMESPACE", "SERVICE ACCOUNT"}, rows)
}

// planMigrations lists the plan's migrations newest first: what ran and how it ended.
func (w *descWriter) planMigrations(d *describedPlan) {
	if d.MigrationsError != "" {
		w.line(0, "Migrations: "+d.MigrationsError)
		return
	}
	if len(d.Migrations) == 0 {
		w.line(0, "Migrations: <none>")
		return
	}
	list := append([]migv1.MigMigration(nil), d.Migrations...)
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].CreationTimestamp, list[j].CreationTimestamp
		if !a.Equal(&b) {
			return b.Before(&a)
		}
		return list[i].Name > list[j].Name
	})
	w.heading(0, "Migrations")
	rows := make([][]string, 0, len(list))
	for i := range list {
		m := &list[i]
		rows = append(rows, []string{m.Name, descMigrationKind(m.Spec), m.Status.Phase, descMigrationOutcome(m), w.time(m.Status.StartTimestamp), descMigrationElapsed(m, w.now)})
	}
	w.table(1, []string{"NAME", "KIND", "PHASE", "OUTCOME", "STARTED", "ELAPSED"}, rows)
}

// ---- cluster ----------------------------------------------------------------------------

// describeClusterText renders `ferry describe cluster`. It never shows the token: it prints
// where the token Secret is, not what it holds (and the CLI never reads it for describe).
func describeClusterText(c *migv1.MigCluster, now time.Time) string {
	w := &descWriter{now: now}
	spec := c.Spec
	url := spec.URL
	if spec.IsHostCluster && url == "" {
		url = "(the cluster the operator runs on)"
	}
	ca := "not given (system trust store)"
	if len(spec.CABundle) > 0 {
		ca = fmt.Sprintf("given (%d bytes)", len(spec.CABundle))
	}
	if spec.Insecure {
		ca += "; not verified (insecure)"
	}
	secret := ""
	if !spec.IsHostCluster || spec.ServiceAccountSecretRef != nil {
		secret = descRef(spec.ServiceAccountSecretRef)
		if secret == "" {
			secret = "<not set>"
		} else {
			secret = "Secret " + secret + " (token not shown)"
		}
	}
	restartRestic := ""
	if spec.RestartRestic != nil {
		restartRestic = descYesNo(*spec.RestartRestic)
	}
	w.fields(0,
		descField{"Name", c.Name},
		descField{"Namespace", c.Namespace},
		descField{"Ready", descYesNo(conditions.IsTrue(c.Status.Conditions, migv1.Ready))},
		descField{"Host cluster", descYesNo(spec.IsHostCluster)},
		descField{"URL", url},
		descField{"Insecure", descYesNo(spec.Insecure)},
		descField{"CA bundle", ca},
		descField{"Service account token", secret},
		descField{"Exposed registry path", descOr(spec.ExposedRegistryPath, "<none>")},
		descField{"Registry path", c.Status.RegistryPath},
		descField{"Operator version", c.Status.OperatorVersion},
		descField{"Azure resource group", spec.AzureResourceGroup},
		descField{"Restart Restic", restartRestic},
	)
	w.blank()
	w.conditions(0, c.Status.Conditions)
	return w.String()
}
