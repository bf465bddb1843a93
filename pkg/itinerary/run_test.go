package itinerary

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeScope scripts what each phase reports and records which phases ran.
type fakeScope struct {
	outcomes map[string]Outcome // missing: Done
	errs     map[string]error
	ran      []string
}

// facts of the test itineraries.
type facts struct{ skipB bool }

func fake(name string) RunFunc[*fakeScope] {
	return func(_ context.Context, s *fakeScope) (Outcome, error) {
		s.ran = append(s.ran, name)
		if err := s.errs[name]; err != nil {
			return Outcome{}, err
		}
		if o, ok := s.outcomes[name]; ok {
			return o, nil
		}
		return Done(), nil
	}
}

func phase(name, step string, when Predicate[facts]) Phase[*fakeScope, facts] {
	return Phase[*fakeScope, facts]{Name: name, Step: step, When: when, Run: fake(name)}
}

func notSkipB(f facts) bool { return !f.skipB }

// testItinerary is A, B (skipped with skipB), C (one-hour timeout), D.
func testItinerary() Itinerary[*fakeScope, facts] {
	c := phase("C", "Two", nil)
	c.Timeout = time.Hour
	return Itinerary[*fakeScope, facts]{Name: "Test", Phases: []Phase[*fakeScope, facts]{
		phase("A", "One", nil), phase("B", "One", notSkipB), c, phase("D", "Two", nil),
	}}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(phase string, started time.Time) Cursor {
	return Cursor{Itinerary: "Test", Phase: phase, PhaseStartedAt: started}
}

func TestRun(t *testing.T) {
	boom := errors.New("boom")
	fail := &Failure{Reason: "BFailed", Message: "B broke."}
	cases := []struct {
		name     string
		cur      Cursor
		facts    facts
		outcomes map[string]Outcome
		errs     map[string]error
		budget   int
		want     Result
		wantErr  error
		wantRan  []string
	}{{
		name:    "a new cursor runs every phase to the end",
		budget:  10,
		want:    Result{Cursor: at(Completed, t0), Completed: []string{"A", "B", "C", "D"}, Done: true},
		wantRan: []string{"A", "B", "C", "D"},
	}, {
		name:    "the budget stops the call with more to do",
		budget:  2,
		want:    Result{Cursor: at("C", t0), Completed: []string{"A", "B"}, More: true},
		wantRan: []string{"A", "B"},
	}, {
		name:    "a budget below one runs one phase",
		budget:  0,
		want:    Result{Cursor: at("B", t0), Completed: []string{"A"}, More: true},
		wantRan: []string{"A"},
	}, {
		name:     "a waiting phase keeps the cursor and asks for a poll",
		budget:   10,
		outcomes: map[string]Outcome{"B": Wait(5 * time.Second)},
		want:     Result{Cursor: at("B", t0), Completed: []string{"A"}, RequeueAfter: 5 * time.Second},
		wantRan:  []string{"A", "B"},
	}, {
		name:     "a phase waiting for an event asks for no requeue",
		budget:   10,
		outcomes: map[string]Outcome{"B": WaitForEvent()},
		want:     Result{Cursor: at("B", t0), Completed: []string{"A"}},
		wantRan:  []string{"A", "B"},
	}, {
		name:     "a failure stops at the failed phase",
		budget:   10,
		outcomes: map[string]Outcome{"B": Failed(fail.Reason, fail.Message)},
		want:     Result{Cursor: at("B", t0), Completed: []string{"A"}, Failure: fail},
		wantRan:  []string{"A", "B"},
	}, {
		name:     "a failure wins over done",
		budget:   10,
		outcomes: map[string]Outcome{"A": {Done: true, Fail: fail}},
		want:     Result{Cursor: at("A", t0), Failure: fail},
		wantRan:  []string{"A"},
	}, {
		name:    "an error is returned with the progress made before it",
		budget:  10,
		errs:    map[string]error{"B": boom},
		want:    Result{Cursor: at("B", t0), Completed: []string{"A"}},
		wantErr: boom,
		wantRan: []string{"A", "B"},
	}, {
		name:    "phases whose predicate fails are skipped",
		budget:  10,
		facts:   facts{skipB: true},
		want:    Result{Cursor: at(Completed, t0), Completed: []string{"A", "C", "D"}, Done: true},
		wantRan: []string{"A", "C", "D"},
	}, {
		name:    "a phase already entered runs even if its predicate no longer holds",
		cur:     at("B", t0.Add(-time.Minute)),
		budget:  1,
		facts:   facts{skipB: true},
		want:    Result{Cursor: at("C", t0), Completed: []string{"B"}, More: true},
		wantRan: []string{"B"},
	}, {
		name:     "a waiting phase past its timeout fails",
		cur:      at("C", t0.Add(-2*time.Hour)),
		budget:   10,
		outcomes: map[string]Outcome{"C": Wait(time.Minute)},
		want: Result{Cursor: at("C", t0.Add(-2*time.Hour)), Failure: &Failure{
			Reason: ReasonTimeout, Message: "Phase C did not complete within 1h0m0s.",
		}},
		wantRan: []string{"C"},
	}, {
		name:   "an erring phase past its timeout fails instead of retrying",
		cur:    at("C", t0.Add(-2*time.Hour)),
		budget: 10,
		errs:   map[string]error{"C": boom},
		want: Result{Cursor: at("C", t0.Add(-2*time.Hour)), Failure: &Failure{
			Reason: ReasonTimeout, Message: "Phase C did not complete within 1h0m0s. Last error: boom",
		}},
		wantRan: []string{"C"},
	}, {
		name:     "a waiting phase within its timeout waits",
		cur:      at("C", t0.Add(-30*time.Minute)),
		budget:   10,
		outcomes: map[string]Outcome{"C": Wait(time.Minute)},
		want:     Result{Cursor: at("C", t0.Add(-30*time.Minute)), RequeueAfter: time.Minute},
		wantRan:  []string{"C"},
	}, {
		name:     "a phase that finishes late is done, not timed out",
		cur:      at("C", t0.Add(-2*time.Hour)),
		budget:   1,
		want:     Result{Cursor: at("D", t0), Completed: []string{"C"}, More: true},
		wantRan:  []string{"C"},
		outcomes: map[string]Outcome{},
	}, {
		name:     "a cursor without a start time starts counting now",
		cur:      at("C", time.Time{}),
		budget:   10,
		outcomes: map[string]Outcome{"C": WaitForEvent()},
		want:     Result{Cursor: at("C", t0)},
		wantRan:  []string{"C"},
	}, {
		name:    "an unknown phase is an error and runs nothing",
		cur:     at("Renamed", t0),
		budget:  10,
		want:    Result{Cursor: at("Renamed", t0)},
		wantErr: ErrUnknownPhase,
	}, {
		name:   "a completed cursor runs nothing",
		cur:    at(Completed, t0.Add(-time.Hour)),
		budget: 10,
		want:   Result{Cursor: at(Completed, t0.Add(-time.Hour)), Done: true},
	}, {
		name:    "a cursor of another itinerary starts this one",
		cur:     Cursor{Itinerary: "Other", Phase: "B", PhaseStartedAt: t0.Add(-time.Hour)},
		budget:  1,
		want:    Result{Cursor: at("B", t0), Completed: []string{"A"}, More: true},
		wantRan: []string{"A"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeScope{outcomes: tc.outcomes, errs: tc.errs}
			got, err := Run(context.Background(), testItinerary(), s, tc.facts, tc.cur, func() time.Time { return t0 }, tc.budget)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			assertResult(t, got, tc.want)
			if !slices.Equal(s.ran, tc.wantRan) {
				t.Errorf("ran %v, want %v", s.ran, tc.wantRan)
			}
		})
	}
}

func assertResult(t *testing.T, got, want Result) {
	t.Helper()
	if got.Cursor != want.Cursor {
		t.Errorf("cursor = %+v, want %+v", got.Cursor, want.Cursor)
	}
	if !slices.Equal(got.Completed, want.Completed) {
		t.Errorf("completed = %v, want %v", got.Completed, want.Completed)
	}
	if got.Done != want.Done || got.More != want.More || got.RequeueAfter != want.RequeueAfter {
		t.Errorf("done/more/requeue = %v/%v/%v, want %v/%v/%v",
			got.Done, got.More, got.RequeueAfter, want.Done, want.More, want.RequeueAfter)
	}
	if (got.Failure == nil) != (want.Failure == nil) || got.Failure != nil && *got.Failure != *want.Failure {
		t.Errorf("failure = %+v, want %+v", got.Failure, want.Failure)
	}
}

func TestRunNoApplicablePhase(t *testing.T) {
	it := Itinerary[*fakeScope, facts]{Name: "Test", Phases: []Phase[*fakeScope, facts]{phase("B", "One", notSkipB)}}
	got, err := Run(context.Background(), it, &fakeScope{}, facts{skipB: true}, Cursor{}, func() time.Time { return t0 }, 10)
	if err != nil || !got.Done || got.Cursor != at(Completed, t0) {
		t.Fatalf("Run = %+v, %v; want done at once", got, err)
	}
}

func TestRunCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &fakeScope{}
	got, err := Run(ctx, testItinerary(), s, facts{}, at("B", t0), func() time.Time { return t0 }, 10)
	if !errors.Is(err, context.Canceled) || len(s.ran) != 0 || got.Cursor != at("B", t0) {
		t.Fatalf("Run = %+v, %v, ran %v; want context.Canceled before any phase", got, err, s.ran)
	}
}

func TestRunStampsEachPhaseStart(t *testing.T) {
	clock := t0
	now := func() time.Time { clock = clock.Add(time.Second); return clock }
	s := &fakeScope{outcomes: map[string]Outcome{"C": WaitForEvent()}}
	got, err := Run(context.Background(), testItinerary(), s, facts{}, Cursor{}, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	// One tick to enter A, one each to enter B and C.
	if want := at("C", t0.Add(3*time.Second)); got.Cursor != want {
		t.Errorf("cursor = %+v, want %+v", got.Cursor, want)
	}
}

func TestRunMissingStepFunction(t *testing.T) {
	it := testItinerary()
	it.Phases[0].Run = nil
	_, err := Run(context.Background(), it, &fakeScope{}, facts{}, Cursor{}, nil, 10)
	if err == nil || !strings.Contains(err.Error(), "no step function") {
		t.Fatalf("err = %v, want a missing step function", err)
	}
}

// A phase that polls with Poll looks again sooner while its wait is young: the engine
// measures the wait from when the phase began, also when it began in this very call.
func TestPollIsProportionalToThePhasesWait(t *testing.T) {
	polls := func() *fakeScope { return &fakeScope{outcomes: map[string]Outcome{"C": Poll(2 * time.Second)}} }
	now := func() time.Time { return t0 }
	for _, tc := range []struct {
		name string
		cur  Cursor
		want time.Duration
	}{
		{"entered in this call", at("A", t0.Add(-time.Hour)), FirstPoll},
		{"waiting for a second", at("C", t0.Add(-time.Second)), FirstPoll},
		{"waiting for four seconds", at("C", t0.Add(-4*time.Second)), time.Second},
		{"waiting for a minute", at("C", t0.Add(-time.Minute)), 2 * time.Second},
	} {
		got, err := Run(context.Background(), testItinerary(), polls(), facts{}, tc.cur, now, 10)
		if err != nil || got.Cursor.Phase != "C" {
			t.Fatalf("%s: phase %s, err %v; want C waiting", tc.name, got.Cursor.Phase, err)
		}
		if got.RequeueAfter != tc.want {
			t.Errorf("%s: RequeueAfter %s, want %s", tc.name, got.RequeueAfter, tc.want)
		}
	}
	// A fixed wait stays fixed.
	s := &fakeScope{outcomes: map[string]Outcome{"C": Wait(2 * time.Second)}}
	if got, _ := Run(context.Background(), testItinerary(), s, facts{}, at("C", t0), now, 10); got.RequeueAfter != 2*time.Second {
		t.Errorf("Wait(2s) gave RequeueAfter %s", got.RequeueAfter)
	}
}
