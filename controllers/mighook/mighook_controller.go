package mighook

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// ControllerName names the controller in logs, metrics and events.
const ControllerName = "mighook"

// Reconciler reconciles MigHooks.
type Reconciler struct {
	// Client reads MigHooks and patches their status.
	Client client.Client
	// Recorder emits an event per condition change.
	Recorder events.EventRecorder
	// Clock stamps condition transitions.
	Clock clock.PassiveClock
}

// +kubebuilder:rbac:groups=migration.openshift.io,resources=mighooks,verbs=get;list;watch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=mighooks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile validates one MigHook and records the result in its status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	hook := &migv1.MigHook{}
	if err := r.Client.Get(ctx, req.NamespacedName, hook); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !hook.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	desired := conditionsFor(&hook.Spec)
	for _, c := range desired {
		if conditions.IsBlocker(c) {
			ctrl.LoggerFrom(ctx).V(1).Info("MigHook is invalid", "condition", c.Type, "reason", c.Reason)
		}
	}
	return ctrl.Result{}, r.patchStatus(ctx, hook, desired)
}

// patchStatus writes desired with a merge patch on the status subresource and emits an event
// for every condition that changed.
func (r *Reconciler) patchStatus(ctx context.Context, hook *migv1.MigHook, desired []migv1.Condition) error {
	before := hook.DeepCopy()
	conditions.Apply(hook, desired, metav1.NewTime(r.Clock.Now()))
	hook.Status.ObservedGeneration = hook.Generation
	return conditions.PatchStatus(ctx, r.Client, r.Recorder, before, hook)
}

// SetupWithManager registers the controller and its watch.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	if r.Client == nil || r.Recorder == nil {
		return fmt.Errorf("%s controller: Client and Recorder are required", ControllerName)
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&migv1.MigHook{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}
