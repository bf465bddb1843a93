package directimagemigration

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

const (
	// ControllerName names the controller in logs, metrics and events.
	ControllerName = "directimagemigration"
	// budget is how many phases one reconcile may run.
	budget = 10
	// blockedRecheck is how often a DIM blocked by validation looks again.
	blockedRecheck = 30 * time.Second
	// pollStreams is how often running DISMs are summed up (their watch also wakes the DIM).
	pollStreams = 3 * time.Second
	// again asks for the next reconcile at once.
	again = time.Millisecond
	// remoteTimeout bounds one reconcile's calls to the clusters.
	remoteTimeout = time.Minute
)

// Reconciler reconciles DirectImageMigrations.
type Reconciler struct {
	// Client reads MigClusters on the host (cached).
	Client client.Client
	// HostDirect reads and writes DIMs and DISMs without a cache.
	HostDirect client.Client
	// Clusters hands out clients for the MigClusters.
	Clusters *clustercache.Cache
	// Recorder emits events for condition changes.
	Recorder events.EventRecorder
	// Clock stamps conditions and phases.
	Clock clock.PassiveClock

	itineraries map[string]Itinerary
}

// +kubebuilder:rbac:groups=migration.openshift.io,resources=directimagemigrations,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=directimagemigrations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=directimagestreammigrations,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=image.openshift.io,resources=imagestreams,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create

// Reconcile moves a DirectImageMigration along its itinerary.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	dim := &migv1.DirectImageMigration{}
	if err := r.HostDirect.Get(ctx, req.NamespacedName, dim); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get DirectImageMigration: %w", err)
	}
	if !dim.DeletionTimestamp.IsZero() || dim.Status.Phase == itinerary.Completed {
		return ctrl.Result{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	o, err := r.observe(ctx, dim)
	if err != nil {
		return ctrl.Result{}, err
	}
	return r.runner().Advance(ctx, r.HostDirect, r.Recorder, dim, status(dim), validate(o), r.scope(o), Facts{})
}
