package migrun

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Condition messages (MTC's).
const (
	ReadyMessage     = "The migration is ready."
	SucceededMessage = "The migration has succeeded"
	FailedMessage    = "The migration has failed.  See: Errors."
)

// again asks for the next reconcile at once.
const again = time.Millisecond

// Status points at the fields of an object's status that the run reads and writes.
type Status struct {
	Phase, Itinerary   *string
	Errors             *[]string
	StartTimestamp     **metav1.Time
	ObservedGeneration *int64
}

// Object is the migration object: an API object with conditions in a status subresource.
type Object = conditions.Patchable

// Runner runs an object's itineraries: Main until the object fails, then Failed.
type Runner[S, F any] struct {
	Main, Failed itinerary.Itinerary[S, F]
	// Budget is how many phases one reconcile may run.
	Budget int
	// Idle is when to come back to a phase that waits for an event (watches also wake it),
	// and to an object that validation blocks.
	Idle time.Duration
	// Now is the clock.
	Now func() time.Time
}

// Advance is one reconcile of obj, whose status st points into, once observed and validated:
// an object that validation blocks records why and looks again after Idle (unless it already
// runs its failure itinerary, which must clean up whatever the clusters look like); else it
// runs with the scope s and facts f. Either way the status is patched, under optimistic
// locking (it holds the cursor), with an event per condition that changed.
func (r Runner[S, F]) Advance(ctx context.Context, c client.Client, recorder events.EventRecorder, obj Object, st Status,
	validation []migv1.Condition, s S, f F) (ctrl.Result, error) {
	before, ok := obj.DeepCopyObject().(Object)
	if !ok {
		return ctrl.Result{}, fmt.Errorf("copy of %T is not an Object", obj)
	}
	if conditions.HasBlocker(validation) && *st.Itinerary != r.Failed.Name {
		conditions.Apply(obj, Blocked(obj, validation), metav1.NewTime(r.Now()))
		if err := conditions.PatchStatusLocked(ctx, c, recorder, before, obj); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: r.Idle}, nil
	}
	res, runErr := r.Run(ctx, obj, st, s, f, validation)
	if err := conditions.PatchStatusLocked(ctx, c, recorder, before, obj); err != nil {
		return ctrl.Result{}, err
	}
	if runErr != nil {
		return ctrl.Result{}, fmt.Errorf("phase %s: %w", *st.Phase, runErr)
	}
	return res, nil
}

// HasFailed says whether the object failed: it has errors or a Failed condition.
func HasFailed(obj Object, st Status) bool {
	return len(*st.Errors) > 0 || conditions.Find(obj.GetConditions(), migv1.Failed) != nil
}

// Run advances the object along its itinerary with scope s and facts f, and writes the
// outcome into its status in memory: cursor, errors, conditions (validation, Ready, Running
// "Step: n/total" or Succeeded; Failed is durable). A failure of the Failed itinerary itself
// ends the object (phase Completed) rather than loop.
func (r Runner[S, F]) Run(ctx context.Context, obj Object, st Status, s S, f F, validation []migv1.Condition) (ctrl.Result, error) {
	now := metav1.NewTime(r.Now())
	if *st.StartTimestamp == nil {
		*st.StartTimestamp = &now
	}
	it := r.Main
	if HasFailed(obj, st) {
		it = r.Failed
	}
	cur := itinerary.Cursor{Itinerary: *st.Itinerary, Phase: *st.Phase}
	// The Running condition's reason is the phase, so its transition time is when the phase
	// started: phase timeouts count from it.
	if c := conditions.Find(obj.GetConditions(), migv1.Running); c != nil && c.Reason == cur.Phase {
		cur.PhaseStartedAt = c.LastTransitionTime.Time
	}
	res, runErr := itinerary.RunWith(ctx, it, s, f, cur, itinerary.Options{Now: r.Now, Budget: r.Budget})
	*st.Itinerary, *st.Phase = res.Cursor.Itinerary, res.Cursor.Phase
	if res.Failure != nil {
		fail(obj, st, res.Failure, now)
		if it.Name == r.Failed.Name {
			*st.Phase = itinerary.Completed
		}
	}
	n, total := itinerary.Position(it, f, *st.Phase)
	conditions.Apply(obj, desired(obj, *st.Phase, validation, n, total), now)
	*st.ObservedGeneration = obj.GetGeneration()
	switch {
	case res.Failure != nil, res.More:
		return ctrl.Result{RequeueAfter: again}, runErr
	case *st.Phase == itinerary.Completed:
		return ctrl.Result{}, runErr
	case res.RequeueAfter > 0:
		return ctrl.Result{RequeueAfter: res.RequeueAfter}, runErr
	}
	return ctrl.Result{RequeueAfter: r.Idle}, runErr
}

// fail records a failure: its message in errors and the durable Critical Failed condition
// with the failure's reason (what the object's parent reads).
func fail(obj Object, st Status, f *itinerary.Failure, now metav1.Time) {
	if !slices.Contains(*st.Errors, f.Message) {
		*st.Errors = append(*st.Errors, f.Message)
	}
	failed := conditions.Critical(migv1.Failed, f.Reason, FailedMessage)
	failed.Durable = true
	conditions.Set(obj, failed, now)
}

// desired computes the conditions of an object that ran this reconcile.
func desired(obj Object, phase string, validation []migv1.Condition, n, total int) []migv1.Condition {
	out := slices.Clone(validation)
	out = append(out, conditions.Required(migv1.Ready, "", ReadyMessage))
	failed := conditions.Find(obj.GetConditions(), migv1.Failed) != nil
	switch {
	case phase == itinerary.Completed && !failed:
		done := conditions.Advisory(migv1.Succeeded, "", SucceededMessage)
		done.Durable = true
		out = append(out, done)
	case phase != itinerary.Completed:
		out = append(out, conditions.Advisory(migv1.Running, phase, fmt.Sprintf("Step: %d/%d", n, total)))
	}
	return out
}

// Blocked are the conditions of an object that validation blocks: the validation conditions,
// and Running kept as it was when it was blocked half-way.
func Blocked(obj Object, validation []migv1.Condition) []migv1.Condition {
	out := slices.Clone(validation)
	if c := conditions.Find(obj.GetConditions(), migv1.Running); c != nil {
		out = append(out, *c)
	}
	return out
}
