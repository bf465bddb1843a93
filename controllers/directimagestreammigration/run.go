package directimagestreammigration

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// Scope is what the step functions of one reconcile work with.
type Scope struct {
	DISM                *migv1.DirectImageStreamMigration
	Settings            settings.Settings
	Source, Destination *Remote
	// ImageStream is the source ImageStream.
	ImageStream *unstructured.Unstructured
	// Now is the reconcile's clock.
	Now func() time.Time

	r *Reconciler
}

func (r *Reconciler) scope(o *observed) *Scope {
	return &Scope{DISM: o.dism, Settings: o.settings, Source: o.source, Destination: o.destination,
		ImageStream: o.imageStream, Now: r.Clock.Now, r: r}
}

// key is the DISM's name, which keys its background copy.
func (s *Scope) key() types.NamespacedName {
	return types.NamespacedName{Namespace: s.DISM.Namespace, Name: s.DISM.Name}
}

// selectItinerary picks the itinerary: Failed once the DISM has failed.
func selectItinerary(dism *migv1.DirectImageStreamMigration) string {
	if len(dism.Status.Errors) > 0 || conditions.Find(dism.Status.Conditions, migv1.Failed) != nil {
		return FailedItinerary
	}
	return ImageStreamMigrationItinerary
}

// cursorOf reads the persisted position; the Running condition's reason is the phase, so its
// transition time is when the phase started.
func cursorOf(dism *migv1.DirectImageStreamMigration) itinerary.Cursor {
	cur := itinerary.Cursor{Itinerary: dism.Status.Itinerary, Phase: dism.Status.Phase}
	if c := conditions.Find(dism.Status.Conditions, migv1.Running); c != nil && c.Reason == dism.Status.Phase {
		cur.PhaseStartedAt = c.LastTransitionTime.Time
	}
	return cur
}

// run advances the DISM along its itinerary and writes the outcome into its status in memory.
func (r *Reconciler) run(ctx context.Context, s *Scope, validation []migv1.Condition) (ctrl.Result, error) {
	dism := s.DISM
	now := r.now()
	if dism.Status.StartTimestamp == nil {
		dism.Status.StartTimestamp = &now
	}
	it := r.itineraries[selectItinerary(dism)]
	res, runErr := itinerary.RunWith(ctx, it, s, Facts{}, cursorOf(dism), itinerary.Options{Now: r.Clock.Now, Budget: budget})
	dism.Status.Itinerary, dism.Status.Phase = res.Cursor.Itinerary, res.Cursor.Phase
	if res.Failure != nil {
		s.fail(res.Failure, now)
		if it.Name == FailedItinerary {
			dism.Status.Phase = itinerary.Completed
		}
	}
	n, total := itinerary.Position(it, Facts{}, dism.Status.Phase)
	conditions.Apply(dism, desiredConditions(dism, validation, n, total), now)
	dism.Status.ObservedGeneration = dism.Generation
	switch {
	case res.Failure != nil, res.More:
		return ctrl.Result{RequeueAfter: again}, runErr
	case dism.Status.Phase == itinerary.Completed:
		return ctrl.Result{}, runErr
	case res.RequeueAfter > 0:
		return ctrl.Result{RequeueAfter: res.RequeueAfter}, runErr
	}
	return ctrl.Result{RequeueAfter: blockedRecheck}, runErr
}

// fail records a failure: its message in status.errors and the durable Critical Failed
// condition with the failure's reason (what the DirectImageMigration reads).
func (s *Scope) fail(f *itinerary.Failure, now metav1.Time) {
	dism := s.DISM
	if !slices.Contains(dism.Status.Errors, f.Message) {
		dism.Status.Errors = append(dism.Status.Errors, f.Message)
	}
	failed := conditions.Critical(migv1.Failed, f.Reason, failedMessage)
	failed.Durable = true
	conditions.Set(dism, failed, now)
}

// Condition messages (MTC's).
const (
	readyMessage     = "The migration is ready."
	succeededMessage = "The migration has succeeded"
	failedMessage    = "The migration has failed.  See: Errors."
)

// desiredConditions computes the DISM's conditions: validation, Ready, and Running or
// Succeeded. Failed is durable and set by fail.
func desiredConditions(dism *migv1.DirectImageStreamMigration, validation []migv1.Condition, n, total int) []migv1.Condition {
	out := slices.Clone(validation)
	out = append(out, conditions.Required(migv1.Ready, "", readyMessage))
	failed := conditions.Find(dism.Status.Conditions, migv1.Failed) != nil
	switch {
	case dism.Status.Phase == itinerary.Completed && !failed:
		done := conditions.Advisory(migv1.Succeeded, "", succeededMessage)
		done.Durable = true
		out = append(out, done)
	case dism.Status.Phase != itinerary.Completed:
		out = append(out, conditions.Advisory(migv1.Running, dism.Status.Phase, fmt.Sprintf("Step: %d/%d", n, total)))
	}
	return out
}

// blockedConditions are the conditions of a DISM that validation blocks: the validation
// conditions, and Running as it was.
func blockedConditions(dism *migv1.DirectImageStreamMigration, validation []migv1.Condition) []migv1.Condition {
	out := slices.Clone(validation)
	if c := conditions.Find(dism.Status.Conditions, migv1.Running); c != nil {
		out = append(out, *c)
	}
	return out
}

// noop is a phase kept for MTC's phase names that has nothing to do here.
func noop(context.Context, *Scope) (itinerary.Outcome, error) { return itinerary.Done(), nil }

// started stamps the start of the migration.
func started(_ context.Context, s *Scope) (itinerary.Outcome, error) {
	if s.DISM.Status.StartTimestamp == nil {
		t := metav1.NewTime(s.Now())
		s.DISM.Status.StartTimestamp = &t
	}
	return itinerary.Done(), nil
}

// stopCopy ends a failed DISM: its background copy, if any, is cancelled.
func stopCopy(_ context.Context, s *Scope) (itinerary.Outcome, error) {
	s.r.copies.forget(s.key())
	return itinerary.Done(), nil
}
