package conditions

import (
	"context"
	"fmt"

	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Patchable is an API object with MTC conditions in a status subresource.
type Patchable interface {
	client.Object
	Object
}

// PatchStatus writes obj's status with a merge patch computed against before (a deep copy
// taken before the reconcile changed obj) and records one event per condition that changed,
// so users see transitions in `kubectl describe` without an event on every reconcile.
func PatchStatus(ctx context.Context, c client.Client, recorder events.EventRecorder, before, obj Patchable) error {
	return patchStatus(ctx, c, recorder, before, obj, client.MergeFrom(before))
}

// PatchStatusLocked is PatchStatus under optimistic locking: the patch carries before's
// resourceVersion, so a status computed from a stale read fails with a conflict (to be retried
// on a fresh read) instead of replacing newer fields. A merge patch replaces lists whole, so
// without the lock a stale reconcile would put back old conditions or an old cursor. For
// objects whose status is a cursor (a migration's phase, its references).
func PatchStatusLocked(ctx context.Context, c client.Client, recorder events.EventRecorder, before, obj Patchable) error {
	return patchStatus(ctx, c, recorder, before, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}

func patchStatus(ctx context.Context, c client.Client, recorder events.EventRecorder, before, obj Patchable, patch client.Patch) error {
	if err := c.Status().Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("patch %s status: %w", obj.GetObjectKind().GroupVersionKind().Kind, err)
	}
	for _, cond := range Changed(before.GetConditions(), obj.GetConditions()) {
		recorder.Eventf(obj, nil, EventType(cond), cond.Type, "Reconcile", "%s", cond.Message)
	}
	return nil
}
