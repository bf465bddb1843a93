package migcluster

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/watch"
)

const (
	// ControllerName names the controller in logs, metrics and events.
	ControllerName = "migcluster"
	// readyRecheckInterval is how often a Ready cluster is probed again (MTC: 60s).
	readyRecheckInterval = 60 * time.Second
	// notReadyRecheckInterval is how often a failing cluster is probed again, so that a
	// cluster that comes back is noticed quickly.
	notReadyRecheckInterval = 15 * time.Second
	// secretRefIndex indexes MigClusters by "namespace/name" of their token Secret.
	secretRefIndex = "spec.serviceAccountSecretRef"
)

// Reconciler reconciles MigClusters.
type Reconciler struct {
	// Client reads and patches MigClusters.
	Client client.Client
	// APIReader reads token Secrets without caching them.
	APIReader client.Reader
	// Clusters hands out clients for remote clusters.
	Clusters *clustercache.Cache
	// Recorder emits an event per condition change.
	Recorder events.EventRecorder
	// Clock stamps condition transitions.
	Clock clock.PassiveClock
	// Proxy picks the proxy of each request of the checks to a remote API server and to a
	// registry route (the MigrationController's httpProxy, httpsProxy and noProxy, read
	// live), as the clients of Clusters do; nil connects directly.
	Proxy func(*http.Request) (*url.URL, error)
}

// +kubebuilder:rbac:groups=migration.openshift.io,resources=migclusters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migclusters/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile validates one MigCluster and records the result in its status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cluster := &migv1.MigCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, cluster); err != nil {
		if apierrors.IsNotFound(err) {
			r.Clusters.Forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get MigCluster: %w", err)
	}
	if !cluster.DeletionTimestamp.IsZero() {
		r.Clusters.Forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}

	s := newScope(cluster)
	if err := r.runChecks(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.patchStatus(ctx, cluster, s); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.resetRefresh(ctx, cluster); err != nil {
		return ctrl.Result{}, err
	}
	if conditions.IsTrue(cluster.Status.Conditions, migv1.Ready) {
		return ctrl.Result{RequeueAfter: readyRecheckInterval}, nil
	}
	return ctrl.Result{RequeueAfter: notReadyRecheckInterval}, nil
}

// patchStatus writes the conditions computed from s with a merge patch on the status
// subresource and emits an event for every condition that changed.
func (r *Reconciler) patchStatus(ctx context.Context, cluster *migv1.MigCluster, s *scope) error {
	before := cluster.DeepCopy()
	conditions.Apply(cluster, conditionsFor(s), metav1.NewTime(r.Clock.Now()))
	cluster.Status.RegistryPath = s.registryPath
	cluster.Status.ObservedGeneration = cluster.Generation
	return conditions.PatchStatus(ctx, r.Client, r.Recorder, before, cluster)
}

// resetRefresh sets spec.refresh back to false once a refresh was honoured.
func (r *Reconciler) resetRefresh(ctx context.Context, cluster *migv1.MigCluster) error {
	if !cluster.Spec.Refresh {
		return nil
	}
	before := cluster.DeepCopy()
	cluster.Spec.Refresh = false
	if err := r.Client.Patch(ctx, cluster, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("reset spec.refresh: %w", err)
	}
	return nil
}

// SetupWithManager registers the controller and its watches.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Clusters == nil || r.Recorder == nil || r.APIReader == nil {
		return fmt.Errorf("%s controller: Clusters, Recorder and APIReader are required", ControllerName)
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	err := mgr.GetFieldIndexer().IndexField(ctx, &migv1.MigCluster{}, secretRefIndex, func(o client.Object) []string {
		if key, ok := clustercache.SecretKey(o.(*migv1.MigCluster)); ok {
			return []string{key.String()}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index MigClusters by Secret: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&migv1.MigCluster{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(
			watch.Referencing(r.Client, func() client.ObjectList { return &migv1.MigClusterList{} }, secretRefIndex))).
		Complete(r)
}
