package migmigration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Why a started migration is canceled although spec.canceled is not set.
const (
	causeMigrationDeleted = "the MigMigration is being deleted"
	causePlanDeleted      = "its MigPlan is being deleted"
	causePlanClosed       = "its MigPlan was closed"
)

// cancelCause says why a started migration must run the Cancel itinerary although nobody
// set spec.canceled, or "": the migration itself is being deleted (by a user, or by the
// garbage collector because its plan is), or its plan is being deleted or was closed. Without
// this, a migration deleted half-way would leave the source scaled down and its Velero
// objects, DVMs and hook Jobs behind, and a closed plan would block it forever.
func cancelCause(m *migv1.MigMigration, plan *migv1.MigPlan) string {
	switch {
	case !m.DeletionTimestamp.IsZero():
		return causeMigrationDeleted
	case plan == nil:
		return ""
	case !plan.DeletionTimestamp.IsZero():
		return causePlanDeleted
	case plan.Spec.Closed:
		return causePlanClosed
	}
	return ""
}

// holdsFinalizer says whether a migration must keep MigMigrationFinalizer: it has started and
// not ended. A migration that never started has nothing to undo, and one that ended has undone
// what it had to (or, when it failed, kept on purpose what explains the failure).
func holdsFinalizer(m *migv1.MigMigration) bool {
	return m.Status.Phase != "" && m.Status.Phase != itinerary.Completed
}

// ensureFinalizer adds MigMigrationFinalizer before the migration's first phase runs, so that
// deleting it (or its plan) runs the Cancel itinerary first. The patch is optimistically
// locked: a merge patch replaces the finalizer list whole.
func (r *Reconciler) ensureFinalizer(ctx context.Context, m *migv1.MigMigration) error {
	if controllerutil.ContainsFinalizer(m, migv1.MigMigrationFinalizer) {
		return nil
	}
	before := m.DeepCopy()
	controllerutil.AddFinalizer(m, migv1.MigMigrationFinalizer)
	if err := r.host().Patch(ctx, m, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("add finalizer: %w", err)
	}
	return nil
}

// releaseFinalizer removes MigMigrationFinalizer, letting a deleted migration go.
func (r *Reconciler) releaseFinalizer(ctx context.Context, m *migv1.MigMigration) error {
	if !controllerutil.ContainsFinalizer(m, migv1.MigMigrationFinalizer) {
		return nil
	}
	before := m.DeepCopy()
	controllerutil.RemoveFinalizer(m, migv1.MigMigrationFinalizer)
	if err := r.host().Patch(ctx, m, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}

// abandon lets a deleted migration go without canceling it, when what the Cancel itinerary
// needs (its plan, the plan's clusters or storage) no longer exists: nothing could reach the
// clusters. The event says what may have been left behind.
func (r *Reconciler) abandon(ctx context.Context, m *migv1.MigMigration, why string) error {
	r.Recorder.Eventf(m, nil, corev1.EventTypeWarning, "NotCanceled", "Delete",
		"The migration was deleted at phase %s and could not be canceled: %s. The source applications may still be scaled down, "+
			"and its Velero Backups and Restores left on the clusters.", m.Status.Phase, why)
	return r.releaseFinalizer(ctx, m)
}
