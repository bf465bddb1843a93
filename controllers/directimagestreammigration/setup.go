package directimagestreammigration

import (
	"context"
	"fmt"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlpredicate "sigs.k8s.io/controller-runtime/pkg/predicate"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/imagecopy"
)

// maxConcurrentReconciles lets several image streams progress at once; reconciles are short
// (copies run in the background).
const maxConcurrentReconciles = 4

// SetupWithManager builds the itineraries and registers the controller. ctx is the
// operator's: copies run under it and stop with the operator.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Clusters == nil || r.Settings == nil || r.Recorder == nil || r.HostDirect == nil {
		return fmt.Errorf("%s controller: Clusters, Settings, Recorder and HostDirect are required", ControllerName)
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	r.base, r.copies, r.mounts, r.itineraries = ctx, newCopies(), &imagecopy.Mounts{}, Itineraries()
	for _, it := range r.itineraries {
		if err := it.Validate(); err != nil {
			return fmt.Errorf("%s controller: %w", ControllerName, err)
		}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&migv1.DirectImageStreamMigration{}, builder.WithPredicates(ctrlpredicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrentReconciles}).
		Complete(r)
}
