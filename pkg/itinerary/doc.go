// Package itinerary runs a workflow described as data: an ordered list of named phases, each
// with a predicate that says whether it applies and a step function that does its work.
//
// A controller builds its itineraries once (Itinerary, Subset, WithStep), computes a facts
// value F and a scope S on every reconcile, and calls Run with the cursor it persisted last
// time. Run executes the current phase, advances over the phases that apply while they finish,
// and returns the new cursor for the caller to persist, along with what to do next: wait for
// an event, poll, fail, or come back at once.
//
// # Implementation considerations
//
//   - Phase names are API: they are persisted in the object's status and read back on the next
//     reconcile, possibly by a newer operator. A name that Run does not know is ErrUnknownPhase,
//     never a silent restart.
//   - The only persisted state is the Cursor (itinerary, phase, when the phase started). Facts
//     and predicates are re-evaluated on every call, so nothing else can drift.
//   - A predicate decides whether a phase is entered; a phase already entered runs until it is
//     done, even if the facts change under it. Facts are one snapshot per call: a fact that an
//     earlier phase of the same call changes is not seen by later predicates of that call, so
//     such facts must be judged by the step function, not by When.
//   - Several phases run in one call, up to a budget, instead of one phase per reconcile
//     followed by a fast requeue (MTC's 100 ms FastReQ). The caller patches status once.
//   - A step function never sleeps or polls in a loop: it returns Wait (poll later), Poll
//     (poll at a quarter of the phase's wait so far, up to a limit: the engine knows when the
//     phase began, also when it began in the same call, so a short wait is noticed within a
//     quarter of a second and a long one is not polled more often than the limit),
//     WaitForEvent (a watch will bring us back), Done, or Failed. An error means "retry with
//     backoff", not "fail the workflow"; a Timeout bounds both waiting and retrying.
//   - Phase timeouts bound phases whose work has a known size. Phases that wait for work of
//     unknown length outside the operator (a Velero Backup, a hook Job, a volume transfer) are
//     watched instead (Phase.Watch): the step function reports what it waits for and what it
//     observed (Outcome.Observed), and the engine keeps in the cursor since when that has not
//     changed. Past Options.Watchdog.Warning the Result carries a Stall for the caller to
//     report; past Timeout the phase fails with ReasonNoProgress. A slow transfer that moves
//     runs as long as it moves; a stalled one ends. The State must hold only what changes
//     with progress (counts, bytes, phases), never an elapsed time.
//   - "Step: n/total" counts only the phases that apply under the current facts. MTC counted
//     the 1-based index in the full list (its Final itinerary reports 17/50 on its third real
//     phase and never reaches 50/50); counting applicable phases is what users expect.
//   - No Kubernetes imports: the engine is tested with fake phases and a fake clock.
package itinerary
