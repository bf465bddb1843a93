package itinerary

import "time"

// Outcome is how a phase stands after its step function ran.
type Outcome struct {
	// Done says the phase finished: the engine advances to the next phase that applies.
	Done bool
	// RequeueAfter is how long to wait before running the phase again when it is not done:
	// 0 means "a watch event will bring us back", more means "poll".
	RequeueAfter time.Duration
	// Proportional makes RequeueAfter the longest wait: the engine polls sooner while the
	// phase's wait is young (PollAfter). See Poll.
	Proportional bool
	// Fail ends the itinerary: the caller switches to its failure itinerary. It wins over Done.
	Fail *Failure
	// Progress is what a watched phase that is not done observed (see Phase.Watch).
	Progress *Progress
}

// Observed returns the outcome with what the phase waits for and the state it observed, for
// the no-progress watchdog of a watched phase.
func (o Outcome) Observed(waiting, state string) Outcome {
	o.Progress = &Progress{Waiting: waiting, State: state}
	return o
}

// Failure says why a phase failed the itinerary.
type Failure struct {
	// Reason is a stable, CamelCase word for conditions, such as InitialBackupFailed.
	Reason string
	// Message is for users.
	Message string
}

// Done returns the Outcome of a finished phase.
func Done() Outcome { return Outcome{Done: true} }

// Wait returns the Outcome of a phase that must be run again after d.
func Wait(d time.Duration) Outcome { return Outcome{RequeueAfter: d} }

// FirstPoll is the shortest interval of PollAfter.
const FirstPoll = 250 * time.Millisecond

// PollAfter is how long a phase that has waited for waited (since it began) waits before it
// looks again: a quarter of the wait so far, from FirstPoll up to limit. A short wait (pods
// that start in a second, a final cutover's small delta) is noticed within a quarter of a
// second instead of up to a whole fixed interval later; with fixed intervals, those waits
// made half of a small cutover's downtime (make bench-cutover, measured phase by phase). A
// long wait costs only a few more looks than a fixed interval: their number grows with the
// logarithm of the wait until limit. A phase that has not waited yet looks at FirstPoll.
func PollAfter(waited, limit time.Duration) time.Duration {
	return min(limit, max(FirstPoll, waited/4))
}

// Poll returns the Outcome of a phase that must look again, after at most limit: the engine,
// which knows when the phase began, applies PollAfter.
func Poll(limit time.Duration) Outcome { return Outcome{RequeueAfter: limit, Proportional: true} }

// WaitForEvent returns the Outcome of a phase that waits for a watched object to change.
func WaitForEvent() Outcome { return Outcome{} }

// Failed returns the Outcome of a phase that fails the itinerary.
func Failed(reason, message string) Outcome {
	return Outcome{Fail: &Failure{Reason: reason, Message: message}}
}
