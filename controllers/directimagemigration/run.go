package directimagemigration

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Scope is what the step functions of one reconcile work with.
type Scope struct {
	DIM                 *migv1.DirectImageMigration
	Source, Destination client.Client
	Pairs               []namespacePair
	Now                 func() time.Time

	r *Reconciler
}

func (r *Reconciler) scope(o *observed) *Scope {
	return &Scope{DIM: o.dim, Source: o.source, Destination: o.destination, Pairs: o.pairs, Now: r.Clock.Now, r: r}
}

// selectItinerary picks the itinerary: Failed once the DIM has failed.
func selectItinerary(dim *migv1.DirectImageMigration) string {
	if len(dim.Status.Errors) > 0 || conditions.Find(dim.Status.Conditions, migv1.Failed) != nil {
		return FailedItinerary
	}
	return ImageMigrationItinerary
}

// cursorOf reads the persisted position; the Running condition's reason is the phase.
func cursorOf(dim *migv1.DirectImageMigration) itinerary.Cursor {
	cur := itinerary.Cursor{Itinerary: dim.Status.Itinerary, Phase: dim.Status.Phase}
	if c := conditions.Find(dim.Status.Conditions, migv1.Running); c != nil && c.Reason == dim.Status.Phase {
		cur.PhaseStartedAt = c.LastTransitionTime.Time
	}
	return cur
}

// run advances the DIM along its itinerary and writes the outcome into its status in memory.
func (r *Reconciler) run(ctx context.Context, s *Scope, validation []migv1.Condition) (ctrl.Result, error) {
	dim := s.DIM
	now := r.now()
	if dim.Status.StartTimestamp == nil {
		dim.Status.StartTimestamp = &now
	}
	it := r.itineraries[selectItinerary(dim)]
	res, runErr := itinerary.RunWith(ctx, it, s, Facts{}, cursorOf(dim), itinerary.Options{Now: r.Clock.Now, Budget: budget})
	dim.Status.Itinerary, dim.Status.Phase = res.Cursor.Itinerary, res.Cursor.Phase
	if res.Failure != nil {
		s.fail(res.Failure, now)
		if it.Name == FailedItinerary {
			dim.Status.Phase = itinerary.Completed
		}
	}
	n, total := itinerary.Position(it, Facts{}, dim.Status.Phase)
	conditions.Apply(dim, desiredConditions(dim, validation, n, total), now)
	dim.Status.ObservedGeneration = dim.Generation
	switch {
	case res.Failure != nil, res.More:
		return ctrl.Result{RequeueAfter: again}, runErr
	case dim.Status.Phase == itinerary.Completed:
		return ctrl.Result{}, runErr
	case res.RequeueAfter > 0:
		return ctrl.Result{RequeueAfter: res.RequeueAfter}, runErr
	}
	return ctrl.Result{RequeueAfter: blockedRecheck}, runErr
}

// fail records a failure: its message in status.errors and the durable Critical Failed
// condition (what the MigMigration reads).
func (s *Scope) fail(f *itinerary.Failure, now metav1.Time) {
	dim := s.DIM
	if !slices.Contains(dim.Status.Errors, f.Message) {
		dim.Status.Errors = append(dim.Status.Errors, f.Message)
	}
	failed := conditions.Critical(migv1.Failed, f.Reason, failedMessage)
	failed.Durable = true
	conditions.Set(dim, failed, now)
}

// Condition messages (MTC's).
const (
	readyMessage     = "The migration is ready."
	succeededMessage = "The migration has succeeded"
	failedMessage    = "The migration has failed.  See: Errors."
)

// desiredConditions computes the DIM's conditions: validation, Ready, and Running or
// Succeeded. Failed is durable and set by fail.
func desiredConditions(dim *migv1.DirectImageMigration, validation []migv1.Condition, n, total int) []migv1.Condition {
	out := slices.Clone(validation)
	out = append(out, conditions.Required(migv1.Ready, "", readyMessage))
	failed := conditions.Find(dim.Status.Conditions, migv1.Failed) != nil
	switch {
	case dim.Status.Phase == itinerary.Completed && !failed:
		done := conditions.Advisory(migv1.Succeeded, "", succeededMessage)
		done.Durable = true
		out = append(out, done)
	case dim.Status.Phase != itinerary.Completed:
		out = append(out, conditions.Advisory(migv1.Running, dim.Status.Phase, fmt.Sprintf("Step: %d/%d", n, total)))
	}
	return out
}

// blockedConditions are the conditions of a DIM that validation blocks: the validation
// conditions, and Running as it was.
func blockedConditions(dim *migv1.DirectImageMigration, validation []migv1.Condition) []migv1.Condition {
	out := slices.Clone(validation)
	if c := conditions.Find(dim.Status.Conditions, migv1.Running); c != nil {
		out = append(out, *c)
	}
	return out
}

// noop is a phase kept for MTC's phase names that has nothing to do here.
func noop(context.Context, *Scope) (itinerary.Outcome, error) { return itinerary.Done(), nil }

// started stamps the start of the migration.
func started(_ context.Context, s *Scope) (itinerary.Outcome, error) {
	if s.DIM.Status.StartTimestamp == nil {
		t := metav1.NewTime(s.Now())
		s.DIM.Status.StartTimestamp = &t
	}
	return itinerary.Done(), nil
}
