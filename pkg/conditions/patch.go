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
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patch %s status: %w", obj.GetObjectKind().GroupVersionKind().Kind, err)
	}
	for _, cond := range Changed(before.GetConditions(), obj.GetConditions()) {
		recorder.Eventf(obj, nil, EventType(cond), cond.Type, "Reconcile", "%s", cond.Message)
	}
	return nil
}
