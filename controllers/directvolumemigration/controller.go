package directvolumemigration

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/settings"
)

const (
	// ControllerName names the controller in logs, metrics and events.
	ControllerName = "directvolumemigration"
	// budget is how many phases one reconcile may run.
	budget = 20
	// blockedRecheck is how often a DVM blocked by validation looks again.
	blockedRecheck = 30 * time.Second
	// idleRecheck bounds how long a running DVM goes unobserved.
	idleRecheck = 30 * time.Second
	// again asks for the next reconcile at once.
	again = time.Millisecond
	// remoteTimeout bounds one reconcile's calls to the clusters.
	remoteTimeout = 2 * time.Minute
	// statusWriteTimeout bounds the status write at the end of a reconcile, which gets its own
	// context: a reconcile that used up remoteTimeout (slow log reads, say) must still record
	// what its steps did, such as a verdict or an attempt number.
	statusWriteTimeout = 15 * time.Second
)

// Reconciler reconciles DirectVolumeMigrations.
type Reconciler struct {
	// Client reads MigClusters and DVMPs on the host (cached).
	Client client.Client
	// HostDirect reads and writes the host without a cache: the DVM itself (its status is the
	// cursor and must never be read stale), the credentials Secret, and the host cluster's
	// namespaces when it is the source or destination.
	HostDirect client.Client
	// Clusters hands out clients for remote clusters.
	Clusters *clustercache.Cache
	// Settings reads the MigrationController settings in force.
	Settings *settings.Reader
	// Recorder emits events for condition changes.
	Recorder events.EventRecorder
	// Clock stamps conditions and phases.
	Clock clock.PassiveClock

	itineraries map[string]Itinerary
}

// +kubebuilder:rbac:groups=migration.openshift.io,resources=directvolumemigrations,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=directvolumemigrations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=directvolumemigrations/finalizers,verbs=update
// +kubebuilder:rbac:groups=migration.openshift.io,resources=directvolumemigrationprogresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=migration.openshift.io,resources=directvolumemigrationprogresses/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migclusters,verbs=get;list;watch
// What it does on the clusters it copies between (also the host) is granted by the roles of
// pkg/permissions (config/rbac/remote), not by markers.

// Reconcile moves a DirectVolumeMigration along its itinerary, or cleans up after it when it
// is deleted.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	dvm := &migv1.DirectVolumeMigration{}
	if err := r.HostDirect.Get(ctx, req.NamespacedName, dvm); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get DirectVolumeMigration: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	if !dvm.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, dvm)
	}
	if dvm.Status.Phase == itinerary.Completed {
		return ctrl.Result{}, nil
	}
	if !controllerutil.ContainsFinalizer(dvm, migv1.DirectVolumeMigrationFinalizer) {
		before := dvm.DeepCopy()
		controllerutil.AddFinalizer(dvm, migv1.DirectVolumeMigrationFinalizer)
		if err := r.HostDirect.Patch(ctx, dvm, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	o, err := r.observe(ctx, dvm)
	if err != nil {
		return ctrl.Result{}, err
	}
	before := dvm.DeepCopy()
	validation := validate(o)
	if conditions.HasBlocker(validation) {
		conditions.Apply(dvm, blockedConditions(dvm, validation), r.now())
		if err := r.patchStatus(ctx, before, dvm); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: blockedRecheck}, nil
	}
	s := r.scope(ctx, o)
	res, runErr := r.run(ctx, s, validation)
	if err := r.patchStatus(ctx, before, dvm); err != nil {
		return ctrl.Result{}, err
	}
	if runErr != nil {
		return ctrl.Result{}, fmt.Errorf("phase %s: %w", dvm.Status.Phase, runErr)
	}
	return res, nil
}

// patchStatus writes the status with a merge patch under optimistic locking (the status holds
// the cursor and the rsync attempts: a patch computed from a stale read must fail, not
// regress them) and records an event per condition that changed.
func (r *Reconciler) patchStatus(ctx context.Context, before, dvm *migv1.DirectVolumeMigration) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusWriteTimeout)
	defer cancel()
	patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
	if err := r.HostDirect.Status().Patch(ctx, dvm, patch); err != nil {
		return fmt.Errorf("patch DirectVolumeMigration status: %w", err)
	}
	for _, c := range conditions.Changed(before.Status.Conditions, dvm.Status.Conditions) {
		r.Recorder.Eventf(dvm, nil, conditions.EventType(c), c.Type, "Reconcile", "%s", c.Message)
	}
	return nil
}

func (r *Reconciler) now() metav1.Time { return metav1.NewTime(r.Clock.Now()) }
