package migplan

import (
	"context"
	"fmt"

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

// retire handles a closed or deleted plan: the storage objects it created on both clusters
// are removed (unless another open plan still uses them), then the plan is marked Closed or
// released for deletion. A closed plan is not reconciled again.
func (r *Reconciler) retire(ctx context.Context, plan *migv1.MigPlan) (ctrl.Result, error) {
	deleting := !plan.DeletionTimestamp.IsZero()
	if !deleting && conditions.IsTrue(plan.Status.Conditions, migv1.Closed) && !controllerutil.ContainsFinalizer(plan, storageFinalizer) {
		return ctrl.Result{}, nil
	}
	if controllerutil.ContainsFinalizer(plan, storageFinalizer) {
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
