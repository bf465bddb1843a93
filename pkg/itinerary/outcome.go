package itinerary

import "time"

// Outcome is how a phase stands after its step function ran.
type Outcome struct {
	// Done says the phase finished: the engine advances to the next phase that applies.
	Done bool
	// RequeueAfter is how long to wait before running the phase again when it is not done:
	// 0 means "a watch event will bring us back", more means "poll".
	RequeueAfter time.Duration
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

// WaitForEvent returns the Outcome of a phase that waits for a watched object to change.
func WaitForEvent() Outcome { return Outcome{} }

// Failed returns the Outcome of a phase that fails the itinerary.
func Failed(reason, message string) Outcome {
	return Outcome{Fail: &Failure{Reason: reason, Message: message}}
}
