package itinerary

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrUnknownPhase means the cursor names a phase its itinerary does not have: the status was
// written by another version, or edited. Retrying cannot help.
var ErrUnknownPhase = errors.New("unknown phase")

// ReasonTimeout is the Failure reason of a phase that exceeded its Timeout.
const ReasonTimeout = "Timeout"

// Cursor is the persisted position in an itinerary.
type Cursor struct {
	// Itinerary is the name of the itinerary the cursor belongs to.
	Itinerary string
	// Phase is the current phase: empty before the first one, Completed after the last one.
	Phase string
	// PhaseStartedAt is when the current phase was entered; phase timeouts count from it.
	PhaseStartedAt time.Time
	// Watch is the no-progress watchdog's memory of a watched phase; zero otherwise.
	Watch Watch
}

// Result is what one call of Run did and what the caller should do next. Exactly one of Done,
// Failure, More and "waiting" (none of them: requeue after RequeueAfter, or on an event when it
// is 0) describes the outcome.
type Result struct {
	// Cursor is the new position, to persist even when Run returns an error: the phases in
	// Completed stay done.
	Cursor Cursor
	// Completed lists the phases that finished in this call, in order.
	Completed []string
	// Done says the itinerary has finished: Cursor.Phase is Completed.
	Done bool
	// Failure says the phase at the cursor failed the itinerary.
	Failure *Failure
	// More says the budget ran out while phases kept finishing: run again at once.
	More bool
	// RequeueAfter is how long the current phase asked to wait; 0 means until an event.
	RequeueAfter time.Duration
	// Stall is set when the watched phase at the cursor has observed no progress for
	// Options.Watchdog.Warning (also with the Failure it led to).
	Stall *Stall
}

// Options tune Run.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Budget is how many step functions one call may run (at least one).
	Budget int
	// Watchdog bounds how long watched phases may observe no progress.
	Watchdog Limits
}

// Run runs the itinerary from the cursor: the phase at the cursor, then, while phases finish,
// the next ones that apply under f, up to budget step functions in this call (at least one).
//
// A cursor of another itinerary, or without a phase, starts the itinerary at its first phase
// that applies. A step function's error is returned as is for the caller to retry with
// backoff, unless the phase has outlived its Timeout, which fails it with ReasonTimeout. now
// may be nil (time.Now).
func Run[S, F any](ctx context.Context, it Itinerary[S, F], s S, f F, cur Cursor, now func() time.Time, budget int) (Result, error) {
	return RunWith(ctx, it, s, f, cur, Options{Now: now, Budget: budget})
}

// RunWith is Run with Options, including the no-progress watchdog of watched phases (see
// Phase.Watch): the phase at which the call stops updates Cursor.Watch, and reports a Stall,
// or fails with ReasonNoProgress, when what it observes has not changed for the limits.
func RunWith[S, F any](ctx context.Context, it Itinerary[S, F], s S, f F, cur Cursor, opts Options) (Result, error) {
	now, budget := opts.Now, opts.Budget
	if now == nil {
		now = time.Now
	}
	res := Result{Cursor: cur}
	if cur.Itinerary != it.Name || cur.Phase == "" {
		res.Cursor = it.enter(-1, f, now())
	}
	if res.Cursor.Phase == Completed {
		res.Done = true
		return res, nil
	}
	i := it.Index(res.Cursor.Phase)
	if i < 0 {
		return res, fmt.Errorf("%w %q in itinerary %s", ErrUnknownPhase, res.Cursor.Phase, it.Name)
	}
	if res.Cursor.PhaseStartedAt.IsZero() {
		res.Cursor.PhaseStartedAt = now()
	}
	for ran := 1; ; ran++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		out, err := it.runPhase(ctx, i, s)
		switch {
		case err == nil && out.Fail != nil:
			res.Failure = out.Fail
			return res, nil
		case err == nil && out.Done:
			res.Completed = append(res.Completed, it.Phases[i].Name)
			res.Cursor = it.enter(i, f, now())
			if res.Cursor.Phase == Completed {
				res.Done = true
				return res, nil
			}
			if ran >= budget {
				res.More = true
				return res, nil
			}
			i = it.Index(res.Cursor.Phase)
			continue
		}
		if fail := it.timedOut(i, res.Cursor.PhaseStartedAt, now(), err); fail != nil {
			res.Failure = fail
			return res, nil
		}
		if it.Phases[i].Watch {
			t := now()
			res.Cursor.Watch = observe(res.Cursor.Watch, out.Progress, res.Cursor.PhaseStartedAt, t)
			stall, fail := judge(it.Phases[i].Name, res.Cursor.Watch, opts.Watchdog, t, err)
			res.Stall = stall
			if fail != nil {
				res.Failure = fail
				return res, nil
			}
		}
		res.RequeueAfter = out.RequeueAfter
		if out.Proportional {
			res.RequeueAfter = PollAfter(now().Sub(res.Cursor.PhaseStartedAt), out.RequeueAfter)
		}
		return res, err
	}
}

// enter returns a cursor at the first phase after i that applies under f, or at Completed.
func (it Itinerary[S, F]) enter(i int, f F, at time.Time) Cursor {
	if j := it.next(i, f); j >= 0 {
		return Cursor{Itinerary: it.Name, Phase: it.Phases[j].Name, PhaseStartedAt: at}
	}
	return Cursor{Itinerary: it.Name, Phase: Completed, PhaseStartedAt: at}
}

// runPhase runs the step function of phase i.
func (it Itinerary[S, F]) runPhase(ctx context.Context, i int, s S) (Outcome, error) {
	p := it.Phases[i]
	if p.Run == nil {
		return Outcome{}, fmt.Errorf("itinerary %s: phase %s has no step function", it.Name, p.Name)
	}
	return p.Run(ctx, s)
}

// timedOut returns the Failure of phase i when it has run longer than its Timeout.
func (it Itinerary[S, F]) timedOut(i int, started, now time.Time, err error) *Failure {
	p := it.Phases[i]
	if p.Timeout <= 0 || now.Sub(started) <= p.Timeout {
		return nil
	}
	msg := fmt.Sprintf("Phase %s did not complete within %s.", p.Name, p.Timeout)
	if err != nil {
		msg += " Last error: " + err.Error()
	}
	return &Failure{Reason: ReasonTimeout, Message: msg}
}
