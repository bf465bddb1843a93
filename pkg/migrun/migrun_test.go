package migrun

import (
	"context"
	"slices"
	"testing"
	"time"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

type scope struct{ fail bool }

func runner() Runner[*scope, struct{}] {
	done := func(context.Context, *scope) (itinerary.Outcome, error) { return itinerary.Done(), nil }
	work := func(_ context.Context, s *scope) (itinerary.Outcome, error) {
		if s.fail {
			return itinerary.Failed("CopyFailed", "the copy failed"), nil
		}
		return itinerary.Done(), nil
	}
	type phase = itinerary.Phase[*scope, struct{}]
	return Runner[*scope, struct{}]{
		Main:   itinerary.Itinerary[*scope, struct{}]{Name: "Main", Phases: []phase{{Name: "Started", Step: "A", Run: done}, {Name: "Work", Step: "A", Run: work}}},
		Failed: itinerary.Itinerary[*scope, struct{}]{Name: "Failed", Phases: []phase{{Name: "MigrationFailed", Step: "A", Run: done}}},
		Budget: 10, Idle: time.Minute, Now: time.Now,
	}
}

func statusOf(dim *migv1.DirectImageMigration) Status {
	st := &dim.Status
	return Status{Phase: &st.Phase, Itinerary: &st.Itinerary, Errors: &st.Errors, StartTimestamp: &st.StartTimestamp, ObservedGeneration: &st.ObservedGeneration}
}

func types(list migv1.Conditions) []string {
	var out []string
	for _, c := range list {
		out = append(out, c.Type)
	}
	slices.Sort(out)
	return out
}

func TestRunSucceeds(t *testing.T) {
	dim := &migv1.DirectImageMigration{}
	dim.Generation = 3
	if _, err := runner().Run(context.Background(), dim, statusOf(dim), &scope{}, struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	if dim.Status.Phase != itinerary.Completed || dim.Status.StartTimestamp == nil || dim.Status.ObservedGeneration != 3 {
		t.Errorf("status %+v", dim.Status)
	}
	if got := types(dim.Status.Conditions); !slices.Equal(got, []string{migv1.Ready, migv1.Succeeded}) {
		t.Errorf("conditions %v", got)
	}
}

func TestRunFailsThroughTheFailedItinerary(t *testing.T) {
	dim := &migv1.DirectImageMigration{}
	r := runner()
	if _, err := r.Run(context.Background(), dim, statusOf(dim), &scope{fail: true}, struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	failed := conditions.Find(dim.Status.Conditions, migv1.Failed)
	if failed == nil || failed.Reason != "CopyFailed" || failed.Category != migv1.CategoryCritical || !slices.Equal(dim.Status.Errors, []string{"the copy failed"}) {
		t.Fatalf("after the failure: errors %v, Failed %+v", dim.Status.Errors, failed)
	}
	if !HasFailed(dim, statusOf(dim)) {
		t.Fatal("HasFailed is false after a failure")
	}
	if _, err := r.Run(context.Background(), dim, statusOf(dim), &scope{fail: true}, struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	if dim.Status.Itinerary != "Failed" || dim.Status.Phase != itinerary.Completed {
		t.Errorf("cursor %s/%s, want Failed/Completed", dim.Status.Itinerary, dim.Status.Phase)
	}
	if conditions.Find(dim.Status.Conditions, migv1.Succeeded) != nil {
		t.Error("a failed object reads Succeeded")
	}
}

func TestBlockedKeepsRunning(t *testing.T) {
	dim := &migv1.DirectImageMigration{Status: migv1.DirectImageMigrationStatus{Conditions: migv1.Conditions{{Type: migv1.Running, Reason: "Work"}}}}
	validation := []migv1.Condition{conditions.Critical(migv1.SourceClusterNotReady, migv1.NotReady, "down")}
	if got := types(Blocked(dim, validation)); !slices.Equal(got, []string{migv1.Running, migv1.SourceClusterNotReady}) {
		t.Errorf("blocked conditions %v", got)
	}
}
