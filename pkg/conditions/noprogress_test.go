package conditions_test

import (
	"testing"
	"time"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

func TestProgressWatchRoundTrip(t *testing.T) {
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := itinerary.Watch{Waiting: "Backup x", State: "InProgress, 3 of 9 items", Since: since}
	persisted := conditions.ProgressWatch(itinerary.Cursor{Phase: "EnsureInitialBackup", Watch: w})
	for _, tc := range []struct {
		name  string
		watch *migv1.ProgressWatch
		phase string
		want  itinerary.Watch
	}{
		{"same phase", persisted, "EnsureInitialBackup", w},
		{"another phase: stale", persisted, "InitialBackupCreated", itinerary.Watch{}},
		{"nothing persisted", nil, "EnsureInitialBackup", itinerary.Watch{}},
	} {
		if got := conditions.WatchOf(tc.watch, tc.phase); got != tc.want {
			t.Errorf("%s: WatchOf = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if conditions.ProgressWatch(itinerary.Cursor{Phase: "Prepare"}) != nil {
		t.Error("an unwatched phase persists a watch")
	}
}
