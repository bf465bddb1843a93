package directvolumemigration

import (
	"context"
	"fmt"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	ctrlpredicate "sigs.k8s.io/controller-runtime/pkg/predicate"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// SetupWithManager builds the itineraries and registers the controller. DVMs are watched for
// spec changes and deletion; their remote pods are polled while a phase waits for them.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	if r.Clusters == nil || r.Settings == nil || r.Recorder == nil || r.HostDirect == nil {
		return fmt.Errorf("%s controller: Clusters, Settings, Recorder and HostDirect are required", ControllerName)
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	r.itineraries = Itineraries()
	for _, it := range r.itineraries {
		if err := it.Validate(); err != nil {
			return fmt.Errorf("%s controller: %w", ControllerName, err)
		}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&migv1.DirectVolumeMigration{}, builder.WithPredicates(ctrlpredicate.Or(
			ctrlpredicate.GenerationChangedPredicate{}, deleting{}))).
		WithOptions(controllerOptions()).
		Complete(r)
}

// deleting passes updates that mark a DVM for deletion.
type deleting struct{ ctrlpredicate.Funcs }

func (deleting) Update(e event.UpdateEvent) bool {
	return e.ObjectNew.GetDeletionTimestamp() != nil && e.ObjectOld.GetDeletionTimestamp() == nil
}

// maxConcurrentReconciles lets several DVMs progress at once; each reconcile is bounded.
const maxConcurrentReconciles = 4

func controllerOptions() controller.Options {
	return controller.Options{MaxConcurrentReconciles: maxConcurrentReconciles}
}
