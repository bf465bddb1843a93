package migmigration

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

const (
	failedMessage    = "The migration has failed.  See: Errors."
	succeededMessage = "The migration has completed successfully."
	warningsMessage  = "The migration has completed with warnings, please look at `Warn` conditions."
	// idleRecheck bounds how long a migration waiting for an event goes unobserved.
	idleRecheck = 30 * time.Second
	// again asks for the next reconcile at once (another phase is ready to run).
	again = time.Millisecond
)

// selectItinerary picks the itinerary from the migration's spec and status (MTC's order):
// failed, canceled, rollback, stage or state, else final. cancel asks for the Cancel
// itinerary although spec.canceled is not set (the migration or its plan is going away, see
// cancelCause); once Cancel has begun, its Canceling condition keeps it there.
func selectItinerary(m *migv1.MigMigration, cancel bool) string {
	c := m.Status.Conditions
	switch {
	case len(m.Status.Errors) > 0 || conditions.Find(c, migv1.Failed) != nil:
		return FailedItinerary
	case m.Spec.Canceled || cancel || conditions.Find(c, migv1.Canceling) != nil || conditions.Find(c, migv1.Canceled) != nil:
		return CancelItinerary
	case m.Spec.Rollback:
		return RollbackItinerary
	case m.Spec.Stage || m.Spec.MigrateState:
		return StageItinerary
	}
	return FinalItinerary
}

// cursorOf reads the persisted position of the migration.
func cursorOf(m *migv1.MigMigration) itinerary.Cursor {
	cur := itinerary.Cursor{Itinerary: m.Status.Itinerary, Phase: m.Status.Phase, Watch: conditions.WatchOf(m.Status.ProgressWatch, m.Status.Phase)}
	if m.Status.PhaseStartedAt != nil {
		cur.PhaseStartedAt = m.Status.PhaseStartedAt.Time
	}
	return cur
}

// resumeTimer moves the start of the current phase, and the no-progress watch, forward by the
// time the migration spent blocked in it: phase timeouts and the watchdog measure the phase's
// own work, so a migration unblocked after a long wait (a cluster back, a plan repaired) does
// not time out at once. The blocking
// conditions are still in the status when the first reconcile after the block runs; their
// transition time is when the block began.
func resumeTimer(cur itinerary.Cursor, list migv1.Conditions, now time.Time) itinerary.Cursor {
	return itinerary.Resume(cur, blockedSince(list), now)
}

// blockedSince is when the earliest blocking condition of list began, or zero.
func blockedSince(list migv1.Conditions) time.Time {
	var since time.Time
	for _, c := range list {
		if conditions.IsBlocker(c) && (since.IsZero() || c.LastTransitionTime.Time.Before(since)) {
			since = c.LastTransitionTime.Time
		}
	}
	return since
}

// run advances the migration along its itinerary and writes the outcome into its status in
// memory: cursor, pipeline, conditions and errors.
func (r *Reconciler) run(ctx context.Context, s *Scope, validation []migv1.Condition) (ctrl.Result, error) {
	m := s.Migration
	now := r.now()
	name := selectItinerary(m, s.cancelCause != "")
	it := r.itineraries[name]
	cur := resumeTimer(cursorOf(m), m.Status.Conditions, now.Time)
	if m.Status.StartTimestamp == nil {
		m.Status.StartTimestamp = &now
	}
	if cur.Itinerary != name {
		m.Status.Pipeline = initPipeline(m.Status.Pipeline, it, s.Facts)
	}
	if s.Facts.DestUnquiesced {
		// Keeps the fact once another itinerary takes over (a migration that started the
		// destination under an earlier version has only its pipeline to say so).
		markDestinationStarted(m, s.Now)
	}
	limits := s.Settings.Watchdog()
	res, runErr := itinerary.RunWith(ctx, it, s, s.Facts, cur, itinerary.Options{Now: r.Clock.Now, Budget: budget, Watchdog: limits})
	logTransition(ctx, m, cur, res)
	observeTransition(m, cur, res, now.Time)
	m.Status.Itinerary, m.Status.Phase = res.Cursor.Itinerary, res.Cursor.Phase
	started := metav1.NewTime(res.Cursor.PhaseStartedAt)
	m.Status.PhaseStartedAt = &started
	m.Status.ProgressWatch = conditions.ProgressWatch(res.Cursor)
	m.Status.Pipeline = updatePipeline(m.Status.Pipeline, it, s.Facts, res.Cursor.Phase, s.details[res.Cursor.Phase], now)
	s.applyProgress(it)

	desired := slices.Clone(validation)
	desired = append(desired, s.notices...)
	result := ctrl.Result{RequeueAfter: idleRecheck}
	switch {
	case res.Failure != nil:
		r.fail(s, it, res)
		result.RequeueAfter = again
	case res.Done:
		desired = append(desired, r.complete(ctx, s, it)...)
		result = ctrl.Result{}
	default:
		desired = append(desired, conditions.Advisory(migv1.Running, res.Cursor.Phase, runningMessage(it, s.Facts, res.Cursor.Phase)))
		desired = append(desired, readyCondition(m, validation)...)
		desired = append(desired, conditions.NoProgress(res.Stall, limits, "migration")...)
		switch {
		case res.More:
			result.RequeueAfter = again
		case res.RequeueAfter > 0:
			result.RequeueAfter = res.RequeueAfter
		}
	}
	conditions.Apply(m, desired, now)
	return result, runErr
}

// fail records a phase's failure: the error, the Failed condition and the failed step. The
// next reconcile runs the Failed itinerary, except when the Failed itinerary itself failed:
// then the migration ends.
func (r *Reconciler) fail(s *Scope, it Itinerary, res itinerary.Result) {
	m := s.Migration
	msg := res.Failure.Message
	if !slices.Contains(m.Status.Errors, msg) {
		m.Status.Errors = append(m.Status.Errors, msg)
	}
	failed := conditions.Advisory(migv1.Failed, res.Cursor.Phase, failedMessage)
	failed.Durable = true
	conditions.Set(m, failed, r.now())
	m.Status.Pipeline = failStep(m.Status.Pipeline, it, res.Cursor.Phase)
	r.Recorder.Eventf(m, nil, corev1.EventTypeWarning, res.Failure.Reason, res.Cursor.Phase, "%s", msg)
	if it.Name == FailedItinerary {
		m.Status.Phase = itinerary.Completed
	}
}

// complete returns the conditions of a migration whose itinerary has ended, and closes a plan
// whose final migration moved selected resources (MTC's state migration of objects).
func (r *Reconciler) complete(ctx context.Context, s *Scope, it Itinerary) []migv1.Condition {
	m := s.Migration
	c := m.Status.Conditions
	if it.Name == CancelItinerary || it.Name == FailedItinerary || conditions.Find(c, migv1.Failed) != nil {
		return nil
	}
	if it.Name == FinalItinerary && len(s.Plan.Spec.IncludedResources) > 0 && !s.Plan.Spec.Closed {
		if err := closePlan(ctx, r.Client, s.Plan); err != nil {
			// The migration itself succeeded; the user can close the plan by hand.
			r.Recorder.Eventf(m, nil, corev1.EventTypeWarning, "ClosePlanFailed", "Complete", "%v", err)
		}
	}
	done := conditions.Advisory(migv1.Succeeded, "", succeededMessage)
	if hasWarnings(c) {
		done = conditions.Advisory(migv1.SucceededWithWarnings, "", warningsMessage)
	}
	done.Durable = true
	return []migv1.Condition{done}
}

// hasWarnings says whether the conditions hold a warning.
func hasWarnings(c migv1.Conditions) bool {
	return slices.ContainsFunc(c, func(x migv1.Condition) bool { return x.Category == migv1.CategoryWarn })
}

// closePlan marks the plan closed: MTC closes a plan after a migration of selected resources.
func closePlan(ctx context.Context, c client.Client, plan *migv1.MigPlan) error {
	before := plan.DeepCopy()
	plan.Spec.Closed = true
	if err := c.Patch(ctx, plan, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("close MigPlan %s/%s: %w", plan.Namespace, plan.Name, err)
	}
	return nil
}

// stepEvents records an event for each pipeline step that started, completed or failed.
func (r *Reconciler) stepEvents(before, after *migv1.MigMigration) {
	old := map[string]*migv1.Step{}
	for _, s := range before.Status.Pipeline {
		old[s.Name] = s
	}
	for _, s := range after.Status.Pipeline {
		o := old[s.Name]
		switch {
		case s.Failed && (o == nil || !o.Failed):
			r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, "StepFailed", s.Name, "Step %s failed.", s.Name)
		case s.Completed != nil && (o == nil || o.Completed == nil):
			r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, "StepCompleted", s.Name, "Step %s completed.", s.Name)
		case s.Started != nil && (o == nil || o.Started == nil):
			r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, "StepStarted", s.Name, "Step %s started: %s", s.Name, s.Message)
		}
	}
}

// applyProgress puts the progress lines the steps reported on their pipeline steps.
func (s *Scope) applyProgress(it Itinerary) {
	for phase, lines := range s.progress {
		ph, ok := it.Find(phase)
		if !ok {
			continue
		}
		for _, step := range s.Migration.Status.Pipeline {
			if step.Name == ph.Step {
				step.Progress = lines
			}
		}
	}
}

// logTransition logs, at info level, each time a migration enters another phase or itinerary
// (with the phases it passed through in this reconcile), so that the operator's log alone
// tells what every migration did and when, as MTC's did.
func logTransition(ctx context.Context, m *migv1.MigMigration, from itinerary.Cursor, res itinerary.Result) {
	if from.Itinerary == res.Cursor.Itinerary && from.Phase == res.Cursor.Phase {
		return
	}
	log.FromContext(ctx).Info("Migration phase", "migration", m.Name, "itinerary", res.Cursor.Itinerary,
		"phase", res.Cursor.Phase, "previous", from.Phase, "passed", res.Completed)
}
