package cli

import (
	"fmt"
	"strconv"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

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
