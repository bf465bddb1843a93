package conditions

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// The no-progress watchdog (pkg/itinerary) runs in the MigMigration and DVM reconcilers alike:
// what they persist of it (status.progressWatch) and the NoProgress warning it raises are
// computed here, once, so that both kinds say the same thing in the same words.

// WatchOf reads a persisted watch for the current phase; a watch of another phase is stale.
func WatchOf(w *migv1.ProgressWatch, phase string) itinerary.Watch {
	if w == nil || w.Phase != phase {
		return itinerary.Watch{}
	}
	return itinerary.Watch{Waiting: w.Waiting, State: w.State, Since: w.Since.Time}
}

// ProgressWatch is the watch to persist for the cursor, nil when its phase is not watched.
func ProgressWatch(cur itinerary.Cursor) *migv1.ProgressWatch {
	if cur.Watch.Since.IsZero() {
		return nil
	}
	return &migv1.ProgressWatch{Phase: cur.Phase, Waiting: cur.Watch.Waiting, State: cur.Watch.State, Since: metav1.NewTime(cur.Watch.Since)}
}

// NoProgress is the NoProgress warning of a stall of subject ("migration", "DVM"): present while
// the stall lasts, with a message that does not change while it does (so that the condition's
// transition time says when the stall began).
func NoProgress(st *itinerary.Stall, limits itinerary.Limits, subject string) []migv1.Condition {
	if st == nil {
		return nil
	}
	msg := st.Message()
	if limits.Timeout > 0 {
		msg += fmt.Sprintf(" The %s fails at %s if nothing changes (migration_no_progress_timeout_minutes: %s).",
			subject, st.Since.Add(limits.Timeout).UTC().Format(time.RFC3339), limits.Timeout)
	}
	return []migv1.Condition{Warn(migv1.NoProgress, migv1.NoProgressTimeout, msg)}
}
