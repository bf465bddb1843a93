package migrationcontroller

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// ControllerName names the controller in logs, metrics and events.
const ControllerName = "migrationcontroller"

// Reconciler reports what Ferry makes of each MigrationController.
type Reconciler struct {
	// Client reads MigrationControllers (cached, in the operator's namespace), patches their
	// status and applies Velero's Deployment.
	Client client.Client
	// APIReader reads Velero's Deployment, ServiceAccount and pods without an informer (one
	// would cache every Deployment and pod of the cluster for a handful of objects).
	APIReader client.Reader
	// Recorder emits an event per condition change.
	Recorder events.EventRecorder
	// Clock stamps condition transitions.
	Clock clock.PassiveClock
}

// +kubebuilder:rbac:groups=migration.openshift.io,resources=migrationcontrollers,verbs=get;list;watch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migrationcontrollers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=serviceaccounts;pods,verbs=get;list;watch

// Reconcile writes the conditions of one MigrationController and, on the one in force, deploys
// or removes Velero as migration_velero says.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	mc := &migv1.MigrationController{}
	if err := r.Client.Get(ctx, req.NamespacedName, mc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !mc.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	list := &migv1.MigrationControllerList{}
	if err := r.Client.List(ctx, list, client.InNamespace(mc.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("list MigrationControllers in %s: %w", mc.Namespace, err)
	}
	inForce := settings.InForce(list.Items)
	var velero veleroState
	if inForce != nil && inForce.Name == mc.Name {
		var err error
		if velero, err = r.reconcileVelero(ctx, mc); err != nil {
			return ctrl.Result{}, err
		}
	}
	before := mc.DeepCopy()
	conditions.Apply(mc, conditionsFor(mc, inForce, velero), metav1.NewTime(r.Clock.Now()))
	mc.Status.ObservedGeneration = mc.Generation
	return ctrl.Result{RequeueAfter: velero.requeue}, conditions.PatchStatus(ctx, r.Client, r.Recorder, before, mc)
}

// SetupWithManager registers the controller. Creating or deleting one MigrationController may
// change which one is in force, so every event re-reports all of the namespace's.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	if r.Client == nil || r.APIReader == nil || r.Recorder == nil {
		return fmt.Errorf("%s controller: Client, APIReader and Recorder are required", ControllerName)
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&migv1.MigrationController{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&migv1.MigrationController{}, handler.EnqueueRequestsFromMapFunc(r.siblings),
			builder.WithPredicates(createOrDelete())).
		Complete(r)
}

// siblings are the other MigrationControllers of obj's namespace.
func (r *Reconciler) siblings(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &migv1.MigrationControllerList{}
	if err := r.Client.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing MigrationControllers")
		return nil
	}
	var out []reconcile.Request
	for _, mc := range list.Items {
		if mc.Name != obj.GetName() {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: mc.Namespace, Name: mc.Name}})
		}
	}
	return out
}

// createOrDelete passes the events that can change which MigrationController is in force.
func createOrDelete() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc:  func(_ event.UpdateEvent) bool { return false },
		GenericFunc: func(_ event.GenericEvent) bool { return false },
	}
}
