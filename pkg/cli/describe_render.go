package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// This file and its describe_render_<part>.go siblings (migration, velero, dvm, dim, hooks,
// plan, cluster) turn what `ferry describe` read into text; this one holds what they share:
// the described objects and the writer. Nothing here talks to a cluster, so every layout
// decision can be tested with objects built in memory (describe_test.go).

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
