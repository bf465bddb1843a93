package directimagestreammigration

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
	"github.com/ferrymtc/ferry/pkg/imagecopy"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/settings"
)

const (
	// ControllerName names the controller in logs, metrics and events.
	ControllerName = "directimagestreammigration"
	// budget is how many phases one reconcile may run.
	budget = 10
	// blockedRecheck is how often a DISM blocked by validation looks again.
	blockedRecheck = 30 * time.Second
	// pollCopy is how often a running copy's progress is read into status.
	pollCopy = 2 * time.Second
	// remoteTimeout bounds one reconcile's calls to the clusters (not the copy, which runs
	// in the background).
	remoteTimeout = time.Minute
	// destinationResolveTimeout bounds how long the destination ImageStream may take to
	// resolve its tags to the copied images (the cluster's image controller updates it).
	destinationResolveTimeout = 5 * time.Minute
)

// Reconciler reconciles DirectImageStreamMigrations.
type Reconciler struct {
	// Client reads MigClusters on the host (cached).
	Client client.Client
	// HostDirect reads and writes DISMs without a cache: the status is the cursor.
	HostDirect client.Client
	// Clusters hands out clients and REST configs for the MigClusters.
	Clusters *clustercache.Cache
	// Settings reads the MigrationController settings in force.
	Settings *settings.Reader
	// Recorder emits events for condition changes.
	Recorder events.EventRecorder
	// Clock stamps conditions and phases.
	Clock clock.PassiveClock

	itineraries map[string]Itinerary
	copies      *copies
	// mounts remembers which destination repositories hold which blobs, over all DISMs: a
	// stream that shares base layers with one copied before mounts them instead of uploading.
	mounts *imagecopy.Mounts
	// base is the operator's context: copies run under it, not under a reconcile's.
	base context.Context
}

// +kubebuilder:rbac:groups=migration.openshift.io,resources=directimagestreammigrations,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=directimagestreammigrations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=image.openshift.io,resources=imagestreams,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=image.openshift.io,resources=imagestreams/layers,verbs=get;update
// The rules above are the host's when it is a source or destination; remote clusters grant
// theirs through the roles of pkg/permissions (config/rbac/remote).

// Reconcile moves a DirectImageStreamMigration along its itinerary.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	dism := &migv1.DirectImageStreamMigration{}
	if err := r.HostDirect.Get(ctx, req.NamespacedName, dism); err != nil {
		if apierrors.IsNotFound(err) {
			r.copies.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get DirectImageStreamMigration: %w", err)
	}
	if !dism.DeletionTimestamp.IsZero() || dism.Status.Phase == itinerary.Completed {
		r.copies.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	o, err := r.observe(ctx, dism)
	if err != nil {
		return ctrl.Result{}, err
	}
	return r.runner().Advance(ctx, r.HostDirect, r.Recorder, dism, status(dism), validate(o), r.scope(o), Facts{})
}
