package migstorage

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/objectstore"
	"github.com/ferrymtc/ferry/pkg/secretref"
	"github.com/ferrymtc/ferry/pkg/watch"
)

const (
	// ControllerName names the controller in logs, metrics and events.
	ControllerName = "migstorage"
	// readyRecheckInterval is how often a Ready storage is tested again, so that a bucket
	// that disappears or credentials that are revoked are noticed (MTC polls every 30s).
	readyRecheckInterval = 60 * time.Second
	// notReadyRecheckInterval is how often a failing storage is tested again, so that a store
	// that comes back is noticed quickly.
	notReadyRecheckInterval = 15 * time.Second
	// maxConcurrentReconciles lets one storage whose endpoint does not answer (a test waits up
	// to the request timeout) not delay the others.
	maxConcurrentReconciles = 4
	// secretRefIndex indexes MigStorages by "namespace/name" of their credentials Secrets.
	secretRefIndex = "spec.credsSecretRefs"
)

// BucketTester proves that a backup storage works; objectstore.Tester is the real one. It
// returns nil on success, an error wrapping objectstore.ErrLiveTestNotSupported when it
// cannot test the provider, context.Canceled when ctx ended, and otherwise an error whose
// message is fit for a condition (no credentials, stable across runs).
type BucketTester interface {
	TestBucket(ctx context.Context, provider string, cfg *migv1.BackupStorageConfig, creds map[string][]byte) error
}

// Reconciler reconciles MigStorages.
type Reconciler struct {
	// Client reads and patches MigStorages.
	Client client.Client
	// APIReader reads credentials Secrets without caching them.
	APIReader client.Reader
	// Recorder emits an event per condition change.
	Recorder events.EventRecorder
	// Clock stamps condition transitions.
	Clock clock.PassiveClock
	// Tester runs the live bucket test; nil uses objectstore.Tester with its defaults.
	Tester BucketTester
}

// +kubebuilder:rbac:groups=migration.openshift.io,resources=migstorages,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migstorages/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile validates and tests one MigStorage and records the result in its status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	storage := &migv1.MigStorage{}
	if err := r.Client.Get(ctx, req.NamespacedName, storage); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !storage.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}

	s := &scope{storage: storage}
	if err := r.runChecks(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	logFailures(ctx, s)
	if err := r.patchStatus(ctx, storage, s); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.resetRefresh(ctx, storage); err != nil {
		return ctrl.Result{}, err
	}
	if conditions.IsTrue(storage.Status.Conditions, migv1.Ready) {
		return ctrl.Result{RequeueAfter: readyRecheckInterval}, nil
	}
	return ctrl.Result{RequeueAfter: notReadyRecheckInterval}, nil
}

// patchStatus writes the conditions computed from s with a merge patch on the status
// subresource and emits an event for every condition that changed.
func (r *Reconciler) patchStatus(ctx context.Context, storage *migv1.MigStorage, s *scope) error {
	before := storage.DeepCopy()
	conditions.Apply(storage, conditionsFor(s), metav1.NewTime(r.Clock.Now()))
	storage.Status.ObservedGeneration = storage.Generation
	return conditions.PatchStatus(ctx, r.Client, r.Recorder, before, storage)
}

// resetRefresh sets spec.refresh back to false once a refresh was honoured.
func (r *Reconciler) resetRefresh(ctx context.Context, storage *migv1.MigStorage) error {
	if !storage.Spec.Refresh {
		return nil
	}
	before := storage.DeepCopy()
	storage.Spec.Refresh = false
	if err := r.Client.Patch(ctx, storage, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("reset spec.refresh: %w", err)
	}
	return nil
}

// SetupWithManager registers the controller and its watches.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Client == nil || r.Recorder == nil || r.APIReader == nil {
		return fmt.Errorf("%s controller: Client, Recorder and APIReader are required", ControllerName)
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Tester == nil {
		r.Tester = objectstore.Tester{}
	}
	err := mgr.GetFieldIndexer().IndexField(ctx, &migv1.MigStorage{}, secretRefIndex, func(o client.Object) []string {
		return secretKeys(o.(*migv1.MigStorage))
	})
	if err != nil {
		return fmt.Errorf("index MigStorages by Secret: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&migv1.MigStorage{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// Metadata only: credentials are never held in the operator's informer caches.
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(
			watch.Referencing(r.Client, func() client.ObjectList { return &migv1.MigStorageList{} }, secretRefIndex))).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrentReconciles}).
		Complete(r)
}

// secretKeys returns "namespace/name" of the credentials Secrets a MigStorage references.
func secretKeys(storage *migv1.MigStorage) []string {
	var keys []string
	for _, ref := range []*corev1.ObjectReference{storage.Spec.BackupStorageConfig.CredsSecretRef, storage.Spec.VolumeSnapshotConfig.CredsSecretRef} {
		if key, ok := secretKey(storage, ref); ok && (len(keys) == 0 || keys[0] != key.String()) {
			keys = append(keys, key.String())
		}
	}
	return keys
}

// secretKey returns the namespace/name a credentials reference points at (the namespace
// defaults to the MigStorage's), or false when the reference is unset. Whether it may be read
// is secretref's rule, checked before reading.
func secretKey(storage *migv1.MigStorage, ref *corev1.ObjectReference) (types.NamespacedName, bool) {
	key, ok, _ := secretref.Key(ref, storage.Namespace)
	return key, ok
}

// readSecret reads a credentials Secret with the uncached reader; found is false when it does
// not exist.
func (r *Reconciler) readSecret(ctx context.Context, key types.NamespacedName) (data map[string][]byte, found bool, err error) {
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("read Secret %s: %w", key, err)
	}
	return secret.Data, true, nil
}
