package migplan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// storageFinalizer keeps a plan until the Velero storage objects it created on its clusters
// are removed. It is added before anything is created on a cluster.
const storageFinalizer = "migration.openshift.io/migplan-storage"

const closedMessage = "The migration plan is closed."

// retireRecheck is how often a retiring plan looks at its running migrations again, besides
// the watch on them.
const retireRecheck = 10 * time.Second

// completedPhase is the phase of a migration that has ended (pkg/itinerary's end marker).
const completedPhase = "Completed"

// retire handles a closed or deleted plan: once no migration of the plan runs any more, the
// storage objects it created on both clusters are removed (unless another open plan still uses
// them), then the plan is marked Closed or released for deletion. A closed plan is not
// reconciled again.
//
// A migration that runs when its plan is closed or deleted cancels itself (its controller
// sees the plan go); it needs the plan's Velero storage to delete its backups, so the storage
// stays until every migration of the plan has ended, and RetireWaitingForMigrations says so.
// The finalizer keeps a deleted plan, and with it the migrations it owns, until then.
func (r *Reconciler) retire(ctx context.Context, plan *migv1.MigPlan) (ctrl.Result, error) {
	deleting := !plan.DeletionTimestamp.IsZero()
	if !deleting && conditions.IsTrue(plan.Status.Conditions, migv1.Closed) && !controllerutil.ContainsFinalizer(plan, storageFinalizer) {
		return ctrl.Result{}, nil
	}
	if controllerutil.ContainsFinalizer(plan, storageFinalizer) {
		running, err := r.runningMigrations(ctx, plan)
		if err != nil {
			return ctrl.Result{}, err
		}
		if len(running) > 0 {
			return ctrl.Result{RequeueAfter: retireRecheck}, r.waitForMigrations(ctx, plan, running)
		}
		if err := r.removeStorage(ctx, plan); err != nil {
			return ctrl.Result{}, err
		}
		before := plan.DeepCopy()
		controllerutil.RemoveFinalizer(plan, storageFinalizer)
		if err := r.Client.Patch(ctx, plan, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, fmt.Errorf("remove finalizer: %w", err)
		}
	}
	if deleting {
		return ctrl.Result{}, nil
	}
	before := plan.DeepCopy()
	closed := conditions.Advisory(migv1.Closed, "", closedMessage)
	closed.Durable = true
	conditions.Apply(plan, []migv1.Condition{closed}, metav1.NewTime(r.Clock.Now()))
	plan.Status.ObservedGeneration = plan.Generation
	return ctrl.Result{}, conditions.PatchStatus(ctx, r.Client, r.Recorder, before, plan)
}

// runningMigrations returns the names of the plan's migrations that have started and not
// ended, read from the API server: a migration the cache still shows as not started may have
// started, and retiring its storage then would break it.
func (r *Reconciler) runningMigrations(ctx context.Context, plan *migv1.MigPlan) ([]string, error) {
	list := &migv1.MigMigrationList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(plan.Namespace)); err != nil {
		return nil, fmt.Errorf("list MigMigrations: %w", err)
	}
	var out []string
	for _, m := range list.Items {
		ref := m.Spec.MigPlanRef
		if ref == nil || ref.Name != plan.Name || (ref.Namespace != "" && ref.Namespace != plan.Namespace) {
			continue
		}
		if m.Status.Phase != "" && m.Status.Phase != completedPhase {
			out = append(out, m.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// waitForMigrations reports that the plan's storage stays until its running migrations end.
func (r *Reconciler) waitForMigrations(ctx context.Context, plan *migv1.MigPlan, running []string) error {
	before := plan.DeepCopy()
	what := "closed"
	if !plan.DeletionTimestamp.IsZero() {
		what = "being deleted"
	}
	c := conditions.Warn(migv1.RetireWaitingForMigrations, "", fmt.Sprintf(
		"The plan is %s while migrations of it run (%s): they are being canceled, and the plan's storage is removed once they have ended.",
		what, strings.Join(running, ", ")))
	conditions.Set(plan, c, metav1.NewTime(r.Clock.Now()))
	return conditions.PatchStatus(ctx, r.Client, r.Recorder, before, plan)
}
