package itinerary

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// watchedItinerary is A, then W (watched), then D.
func watchedItinerary() Itinerary[*fakeScope, facts] {
	w := phase("W", "Two", nil)
	w.Watch = true
	return Itinerary[*fakeScope, facts]{Name: "Test", Phases: []Phase[*fakeScope, facts]{
		phase("A", "One", nil), w, phase("D", "Two", nil),
	}}
}

func TestWatchdog(t *testing.T) {
	limits := Limits{Warning: 10 * time.Minute, Timeout: time.Hour}
	waiting := func(state string) Outcome { return Wait(time.Second).Observed("Backup b on the source cluster", state) }
	watched := func(state string, since time.Time) Cursor {
		c := at("W", t0)
		c.Watch = Watch{Waiting: "Backup b on the source cluster", State: state, Since: since}
		return c
	}
	boom := errors.New("connection refused")
	cases := []struct {
		name      string
		cur       Cursor
		now       time.Time
		outcome   Outcome
		err       error
		limits    Limits
		wantWatch Watch
		wantStall bool
		wantFail  string // substring of the failure message; "" for none
	}{{
		name:      "the first observation starts the watch",
		cur:       at("W", t0),
		now:       t0.Add(time.Second),
		outcome:   waiting("New"),
		limits:    limits,
		wantWatch: Watch{Waiting: "Backup b on the source cluster", State: "New", Since: t0.Add(time.Second)},
	}, {
		name:      "the same state keeps its time",
		cur:       watched("New", t0),
		now:       t0.Add(5 * time.Minute),
		outcome:   waiting("New"),
		limits:    limits,
		wantWatch: Watch{Waiting: "Backup b on the source cluster", State: "New", Since: t0},
	}, {
		name:      "a changed state is progress",
		cur:       watched("InProgress, 10 of 40 items", t0),
		now:       t0.Add(50 * time.Minute),
		outcome:   waiting("InProgress, 11 of 40 items"),
		limits:    limits,
		wantWatch: Watch{Waiting: "Backup b on the source cluster", State: "InProgress, 11 of 40 items", Since: t0.Add(50 * time.Minute)},
	}, {
		name: "work running under its own deadline is progress",
		cur:  watched("Job running", t0),
		now:  t0.Add(50 * time.Minute),
		outcome: func() Outcome {
			o := waiting("Job running")
			o.Progress.Bounded = true
			return o
		}(),
		limits:    limits,
		wantWatch: Watch{Waiting: "Backup b on the source cluster", State: "Job running", Since: t0.Add(50 * time.Minute)},
	}, {
		name:      "no change past the warning limit is a stall",
		cur:       watched("New", t0),
		now:       t0.Add(11 * time.Minute),
		outcome:   waiting("New"),
		limits:    limits,
		wantWatch: Watch{Waiting: "Backup b on the source cluster", State: "New", Since: t0},
		wantStall: true,
	}, {
		name:      "no change past the timeout fails the phase",
		cur:       watched("New", t0),
		now:       t0.Add(61 * time.Minute),
		outcome:   waiting("New"),
		limits:    limits,
		wantWatch: Watch{Waiting: "Backup b on the source cluster", State: "New", Since: t0},
		wantFail:  "No progress for 1h1m0s in phase W: waiting for Backup b on the source cluster; last observed: New",
	}, {
		name:      "an error is no progress, and the failure says it",
		cur:       watched("New", t0),
		now:       t0.Add(61 * time.Minute),
		err:       boom,
		limits:    limits,
		wantWatch: Watch{Waiting: "Backup b on the source cluster", State: "New", Since: t0},
		wantFail:  "Last error: connection refused",
	}, {
		name:      "errors from the start count from the phase's start",
		cur:       at("W", t0),
		now:       t0.Add(12 * time.Minute),
		err:       boom,
		limits:    limits,
		wantWatch: Watch{Since: t0},
		wantStall: true,
	}, {
		name:      "zero limits never judge",
		cur:       watched("New", t0),
		now:       t0.Add(100 * time.Hour),
		outcome:   waiting("New"),
		wantWatch: Watch{Waiting: "Backup b on the source cluster", State: "New", Since: t0},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeScope{outcomes: map[string]Outcome{"W": tc.outcome}, errs: map[string]error{"W": tc.err}}
			res, err := RunWith(context.Background(), watchedItinerary(), s, facts{}, tc.cur,
				Options{Now: func() time.Time { return tc.now }, Budget: 5, Watchdog: tc.limits})
			if tc.wantFail != "" {
				if res.Failure == nil || res.Failure.Reason != ReasonNoProgress || !strings.Contains(res.Failure.Message, tc.wantFail) {
					t.Fatalf("failure = %+v, want reason %s with %q", res.Failure, ReasonNoProgress, tc.wantFail)
				}
				return
			}
			if res.Failure != nil {
				t.Fatalf("unexpected failure %+v", res.Failure)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("error = %v, want %v", err, tc.err)
			}
			if res.Cursor.Watch != tc.wantWatch {
				t.Errorf("watch = %+v, want %+v", res.Cursor.Watch, tc.wantWatch)
			}
			if (res.Stall != nil) != tc.wantStall {
				t.Errorf("stall = %+v, want %v", res.Stall, tc.wantStall)
			}
			if res.Stall != nil && (res.Stall.Phase != "W" || res.Stall.Watch != tc.wantWatch) {
				t.Errorf("stall = %+v, want phase W and the watch", res.Stall)
			}
		})
	}
}

func TestWatchdogIgnoresUnwatchedAndResetsOnNextPhase(t *testing.T) {
	// An unwatched phase that waits for ever is the phase timeout's business.
	s := &fakeScope{outcomes: map[string]Outcome{"A": Wait(time.Second)}}
	res, err := RunWith(context.Background(), watchedItinerary(), s, facts{}, at("A", t0),
		Options{Now: func() time.Time { return t0.Add(100 * time.Hour) }, Budget: 5, Watchdog: Limits{Warning: time.Minute, Timeout: time.Hour}})
	if err != nil || res.Failure != nil || res.Stall != nil || res.Cursor.Watch != (Watch{}) {
		t.Fatalf("unwatched phase: %+v, %v", res, err)
	}
	// A watched phase that finishes leaves no watch behind for the next one.
	cur := at("W", t0)
	cur.Watch = Watch{Waiting: "x", State: "y", Since: t0}
	s = &fakeScope{outcomes: map[string]Outcome{"D": Wait(time.Second)}}
	res, err = RunWith(context.Background(), watchedItinerary(), s, facts{}, cur,
		Options{Now: func() time.Time { return t0.Add(time.Minute) }, Budget: 5})
	if err != nil || res.Cursor.Phase != "D" || res.Cursor.Watch != (Watch{}) {
		t.Fatalf("after W: cursor %+v, %v", res.Cursor, err)
	}
}
