package directvolumemigration

import (
	"context"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// selectItinerary picks the itinerary: Failed once the DVM has failed, Rollback for
// migrationType Rollback, else VolumeMigration.
func selectItinerary(dvm *migv1.DirectVolumeMigration) string {
	switch {
	case len(dvm.Status.Errors) > 0 || conditions.Find(dvm.Status.Conditions, migv1.Failed) != nil:
		return VolumeMigrationFailedItinerary
	case dvm.Spec.MigrationType != nil && *dvm.Spec.MigrationType == migv1.MigrationTypeRollback:
		return VolumeMigrationRollbackItinerary
	}
	return VolumeMigrationItinerary
}

// cursorOf reads the persisted position. The DVM status has no phaseStartedAt; the Running
// condition changes (and so its transition time) with every phase, since its reason is the
// phase.
func cursorOf(dvm *migv1.DirectVolumeMigration) itinerary.Cursor {
	cur := itinerary.Cursor{Itinerary: dvm.Status.Itinerary, Phase: dvm.Status.Phase, Watch: conditions.WatchOf(dvm.Status.ProgressWatch, dvm.Status.Phase)}
	if c := conditions.Find(dvm.Status.Conditions, migv1.Running); c != nil && c.Reason == dvm.Status.Phase {
		cur.PhaseStartedAt = c.LastTransitionTime.Time
	}
	return cur
}

// run advances the DVM along its itinerary and writes the outcome into its status in memory.
func (r *Reconciler) run(ctx context.Context, s *Scope, validation []migv1.Condition) (ctrl.Result, error) {
	dvm := s.DVM
	now := r.now()
	if dvm.Status.StartTimestamp == nil {
		dvm.Status.StartTimestamp = &now
	}
	it := r.itineraries[selectItinerary(dvm)]
	cur := cursorOf(dvm)
	if it.Name == VolumeMigrationItinerary {
		// Time blocked by validation is not time without progress.
		cur = itinerary.Resume(cur, blockedSince(dvm.Status.Conditions), now.Time)
	}
	s.limits = s.Settings.Watchdog()
	res, runErr := itinerary.RunWith(ctx, it, s, Facts{}, cur, itinerary.Options{Now: r.Clock.Now, Budget: budget, Watchdog: s.limits})
	dvm.Status.Itinerary, dvm.Status.Phase = res.Cursor.Itinerary, res.Cursor.Phase
	dvm.Status.ProgressWatch = conditions.ProgressWatch(res.Cursor)
	if res.Failure == nil {
		s.stall = res.Stall
	}
	if res.Failure != nil {
		s.fail(res.Failure, now)
		if it.Name == VolumeMigrationFailedItinerary {
			// The cleanup after a failure failed too: end here, the finalizer cleans up.
			dvm.Status.Phase = itinerary.Completed
		}
	}
	n, total := itinerary.Position(it, Facts{}, dvm.Status.Phase)
	conditions.Apply(dvm, desiredConditions(s, validation, n, total), now)
	dvm.Status.PhaseDescription = phaseDescription(s, dvm.Status.Phase)
	dvm.Status.ObservedGeneration = dvm.Generation
	switch {
	case res.Failure != nil, res.More:
		return ctrl.Result{RequeueAfter: again}, runErr
	case dvm.Status.Phase == itinerary.Completed:
		return ctrl.Result{}, runErr
	case res.RequeueAfter > 0:
		return ctrl.Result{RequeueAfter: min(res.RequeueAfter, idleRecheck)}, runErr
	}
	return ctrl.Result{RequeueAfter: idleRecheck}, runErr
}

// fail records a failure: its message in status.errors and the durable Critical Failed
// condition (MTC's: a MigMigration fails when its DVM's Failed condition is Critical).
func (s *Scope) fail(f *itinerary.Failure, now metav1.Time) {
	dvm := s.DVM
	if !slices.Contains(dvm.Status.Errors, f.Message) {
		dvm.Status.Errors = append(dvm.Status.Errors, f.Message)
	}
	failed := conditions.Critical(migv1.Failed, dvm.Status.Phase, failedMessage)
	failed.Durable = true
	conditions.Set(dvm, failed, now)
}

// noop is a phase kept for MTC's phase names that has nothing to do here.
func noop(context.Context, *Scope) (itinerary.Outcome, error) { return itinerary.Done(), nil }

// started stamps the start of the migration.
func started(_ context.Context, s *Scope) (itinerary.Outcome, error) {
	if s.DVM.Status.StartTimestamp == nil {
		t := metav1.NewTime(s.Now())
		s.DVM.Status.StartTimestamp = &t
	}
	return itinerary.Done(), nil
}

// Polling intervals: remote pods are polled, not watched (see doc.go). These are the longest
// intervals; a waiting phase polls sooner while its wait is young (itinerary.Poll).
const (
	pollPods     = 2 * time.Second
	pollTransfer = 3 * time.Second
)

// pollUnlessRefused is a poll of at most limit, or, when the cluster refused to create pods
// (s.refusals: quota, admission), a fixed retry after refusedRetry, which a young wait does not
// shorten.
func (s *Scope) pollUnlessRefused(limit time.Duration) itinerary.Outcome {
	if len(s.refusals) > 0 {
		return itinerary.Wait(refusedRetry)
	}
	return itinerary.Poll(limit)
}
