package directimagemigration

import (
	"context"
	"fmt"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlpredicate "sigs.k8s.io/controller-runtime/pkg/predicate"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// SetupWithManager builds the itineraries and registers the controller: DIMs are watched for
// spec changes, and the DISMs they own for any change (their status is the DIM's progress).
func (r *Reconciler) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	if r.Clusters == nil || r.Recorder == nil || r.HostDirect == nil {
		return fmt.Errorf("%s controller: Clusters, Recorder and HostDirect are required", ControllerName)
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
		For(&migv1.DirectImageMigration{}, builder.WithPredicates(ctrlpredicate.GenerationChangedPredicate{})).
		Owns(&migv1.DirectImageStreamMigration{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2}).
		Complete(r)
}
