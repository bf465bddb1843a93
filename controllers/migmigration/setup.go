package migmigration

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	ctrlpredicate "sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// migrationPlanIndex indexes migrations by the name of their plan.
const migrationPlanIndex = "migmigration.byPlanName"

// SetupWithManager builds the itineraries and registers the controller: migrations (spec
// changes: cancel), their plans (readiness, refresh), their siblings (a finished migration
// lets the next one start), their DirectVolumeMigrations and DirectImageMigrations.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Clusters == nil || r.Settings == nil || r.Recorder == nil {
		return fmt.Errorf("%s controller: Clusters, Settings and Recorder are required", ControllerName)
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	r.itineraries = Itineraries(r.stepFunc(r.stepFuncs()))
	err := mgr.GetFieldIndexer().IndexField(ctx, &migv1.MigMigration{}, migrationPlanIndex, func(o client.Object) []string {
		if key, ok := planKey(o.(*migv1.MigMigration)); ok {
			return []string{key.Name}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index %s: %w", migrationPlanIndex, err)
	}
	if err := metrics.Registry.Register(collector{reader: mgr.GetCache()}); err != nil {
		// A second manager in one process (tests) keeps the first one's collector.
		if !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
			return fmt.Errorf("register migration metrics: %w", err)
		}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&migv1.MigMigration{}, builder.WithPredicates(ctrlpredicate.GenerationChangedPredicate{})).
		Watches(&migv1.MigPlan{}, handler.EnqueueRequestsFromMapFunc(r.migrationsOfPlan)).
		Watches(&migv1.MigMigration{}, handler.EnqueueRequestsFromMapFunc(r.waitingSiblings)).
		Owns(&migv1.DirectVolumeMigration{}).
		Owns(&migv1.DirectImageMigration{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrentReconciles}).
		Complete(r)
}

// maxConcurrentReconciles lets migrations of different plans progress at once: a reconcile
// that waits on a slow remote API server (up to its request timeout) does not hold the others
// back. Controller-runtime never reconciles one migration twice at once, and the migrations
// of one plan keep their order (ahead, by creation), so more workers change no outcome.
const maxConcurrentReconciles = 4

// migrationsOfPlan maps a plan event to its unfinished migrations.
func (r *Reconciler) migrationsOfPlan(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.unfinished(ctx, obj.GetNamespace(), obj.GetName(), func(*migv1.MigMigration) bool { return true })
}

// waitingSiblings maps a migration event to the migrations of the same plan that have not
// started: one of them may now be first in line.
func (r *Reconciler) waitingSiblings(ctx context.Context, obj client.Object) []reconcile.Request {
	key, ok := planKey(obj.(*migv1.MigMigration))
	if !ok {
		return nil
	}
	return r.unfinished(ctx, key.Namespace, key.Name, func(m *migv1.MigMigration) bool {
		return m.UID != obj.GetUID() && m.Status.Phase == ""
	})
}

func (r *Reconciler) unfinished(ctx context.Context, namespace, plan string, keep func(*migv1.MigMigration) bool) []reconcile.Request {
	list := &migv1.MigMigrationList{}
	if err := r.Client.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{migrationPlanIndex: plan}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List migrations of a plan", "plan", plan)
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		m := &list.Items[i]
		if m.Status.Phase != itinerary.Completed && keep(m) {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: m.Namespace, Name: m.Name}})
		}
	}
	return out
}
