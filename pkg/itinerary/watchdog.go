package itinerary

import (
	"fmt"
	"time"
)

// ReasonNoProgress is the Failure reason of a watched phase that observed no progress for
// Limits.Timeout.
const ReasonNoProgress = "NoProgressTimeout"

// Progress is what a waiting phase observed of what it waits for.
type Progress struct {
	// Waiting names what the phase waits for, such as "Restore ns/name on the destination
	// cluster".
	Waiting string
	// State is what the phase observed of it, such as "InProgress, 12 of 40 items". A change
	// of State is progress; so it must not hold anything that changes by itself (an elapsed
	// time, a rate).
	State string
	// Bounded says the work is running under a deadline of its own (a Job's
	// activeDeadlineSeconds) whose progress cannot be seen: every observation counts as
	// progress, and that deadline ends it.
	Bounded bool
}

// Watch is the watchdog's memory of the current phase, persisted with the cursor: what the
// phase waits for, what it last observed, and since when that has not changed.
type Watch struct {
	Waiting string
	State   string
	Since   time.Time
}

// Limits bound how long a watched phase may observe no progress: a Stall after Warning, a
// Failure after Timeout. Zero disables either.
type Limits struct {
	Warning, Timeout time.Duration
}

// Stall says that a watched phase has observed no progress for at least Limits.Warning.
type Stall struct {
	Phase string
	Watch
	// For is how long nothing has changed.
	For time.Duration
	// Err is the step function's last error, or "".
	Err string
}

// Message describes the stall for users: it stays the same while the stall lasts, so that a
// condition built from it does not change on every poll.
func (s Stall) Message() string {
	msg := fmt.Sprintf("No progress in phase %s since %s: waiting for %s; last observed: %s.",
		s.Phase, s.Since.UTC().Format(time.RFC3339), orNothing(s.Waiting, "its work"), orNothing(s.State, "nothing yet"))
	if s.Err != "" {
		msg += " Last error: " + s.Err
	}
	return msg
}

// observe updates the watch of a watched phase that did not finish: a new State is progress;
// no report (an error, a step that could not look) is none. An empty watch starts at the
// phase's start.
func observe(w Watch, p *Progress, started, now time.Time) Watch {
	if w.Since.IsZero() {
		w = Watch{Since: started}
	}
	if p == nil {
		return w
	}
	if p.State != w.State || p.Bounded {
		return Watch{Waiting: p.Waiting, State: p.State, Since: now}
	}
	w.Waiting = p.Waiting
	return w
}

// judge returns the stall of the watched phase, and the failure when it has lasted past the
// timeout.
func judge(phase string, w Watch, l Limits, now time.Time, err error) (*Stall, *Failure) {
	idle := now.Sub(w.Since)
	warn, timeout := l.Warning > 0 && idle > l.Warning, l.Timeout > 0 && idle > l.Timeout
	if !warn && !timeout {
		return nil, nil
	}
	s := &Stall{Phase: phase, Watch: w, For: idle}
	if err != nil {
		s.Err = err.Error()
	}
	if !timeout {
		return s, nil
	}
	msg := fmt.Sprintf("No progress for %s in phase %s: waiting for %s; last observed: %s, unchanged since %s.",
		idle.Round(time.Second), phase, orNothing(w.Waiting, "its work"), orNothing(w.State, "nothing yet"), w.Since.UTC().Format(time.RFC3339))
	if s.Err != "" {
		msg += " Last error: " + s.Err
	}
	return s, &Failure{Reason: ReasonNoProgress, Message: msg}
}

func orNothing(s, nothing string) string {
	if s == "" {
		return nothing
	}
	return s
}

// Resume moves the start of the current phase and its watch forward by the time the workflow
// was blocked (from blockedSince until now) while in that phase: phase timeouts and the
// watchdog measure the phase's own work, so a workflow unblocked after a long wait does not
// time out at once. A block that began before the phase, or in the future, changes nothing.
func Resume(cur Cursor, blockedSince, now time.Time) Cursor {
	if cur.PhaseStartedAt.IsZero() || blockedSince.IsZero() || !blockedSince.After(cur.PhaseStartedAt) || blockedSince.After(now) {
		return cur
	}
	cur.PhaseStartedAt = cur.PhaseStartedAt.Add(now.Sub(blockedSince))
	switch {
	case cur.Watch.Since.IsZero():
	case cur.Watch.Since.Before(blockedSince):
		cur.Watch.Since = cur.Watch.Since.Add(now.Sub(blockedSince))
	default:
		cur.Watch.Since = now
	}
	return cur
}
