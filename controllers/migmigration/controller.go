package migmigration

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
	ControllerName = "migmigration"
	// postponedRecheck is how often a postponed migration looks again, besides the watch on
	// its siblings.
	postponedRecheck = 10 * time.Second
	// blockedRecheck is how often a blocked migration looks again, besides the watches.
	blockedRecheck = 30 * time.Second
	// budget is how many phases one reconcile may run.
	budget = 25
	// reconcileTimeout bounds a whole reconcile: every call to a cluster inside it ends by then.
	reconcileTimeout = 2 * time.Minute
)

// Reconciler reconciles MigMigrations.
type Reconciler struct {
	// Client reads and patches migrations, plans and what they reference on the host.
	Client client.Client
	// Clusters hands out clients for the source and destination clusters.
	Clusters *clustercache.Cache
	// HostDirect reads and writes the host cluster without a cache, when the host is the
	// source or destination: a step that creates a Backup or Restore reads it back at once,
	// and remote clusters are read directly too.
	HostDirect client.Client
	// Settings reads the MigrationController settings in force.
	Settings *settings.Reader
	// Recorder emits events for condition changes and pipeline steps.
	Recorder events.EventRecorder
	// Clock stamps conditions and phases.
	Clock clock.PassiveClock

	itineraries map[string]Itinerary
}

// +kubebuilder:rbac:groups=migration.openshift.io,resources=migmigrations,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migmigrations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migmigrations/finalizers,verbs=update
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migplans,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=directvolumemigrations,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=migration.openshift.io,resources=directimagemigrations,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migclusters;migstorages;mighooks,verbs=get;list;watch
// The host may be a migration's source or destination: what a migration does on its clusters
// (Velero objects, quiesce, rollback) is granted by the roles of pkg/permissions
// (config/rbac/remote), which config/rbac binds to the operator, not by markers.

// Reconcile moves a migration along its itinerary. A started migration that is deleted, or
// whose plan is deleted or closed, runs the Cancel itinerary before it goes (finalizer.go).
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, reconcileTimeout)
	defer cancel()
	// The status is the cursor: read it from the API server, never from a cache that may lag
	// behind the last patch (which would run earlier phases again and, on write, put back
	// older conditions and references).
	m := &migv1.MigMigration{}
	if err := r.host().Get(ctx, req.NamespacedName, m); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get MigMigration: %w", err)
	}
	deleting := !m.DeletionTimestamp.IsZero()
	if !holdsFinalizer(m) && (deleting || m.Status.Phase == itinerary.Completed) {
		return ctrl.Result{}, r.releaseFinalizer(ctx, m)
	}
	if m.Status.Phase == itinerary.Completed {
		return ctrl.Result{}, nil
	}
	if deleting && !controllerutil.ContainsFinalizer(m, migv1.MigMigrationFinalizer) {
		// Started before the finalizer existed: nothing keeps it for the Cancel itinerary.
		return ctrl.Result{}, nil
	}
	o, err := r.observe(ctx, m)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !deleting {
		if err := r.ensureMetadata(ctx, m, o.plan); err != nil {
			return ctrl.Result{}, err
		}
	}
	// Validation comes first: a migration of a plan that is not Ready (its clusters unreachable,
	// say) must say so, without the scope's reads of those clusters failing the reconcile
	// before any status is written. The facts' checks follow once the scope exists.
	validation := validate(o, nil)
	var scope *Scope
	if !conditions.HasBlocker(validation) {
		if scope, err = r.scope(ctx, o); err != nil {
			return ctrl.Result{}, err
		}
		if scope != nil {
			validation = validate(o, &scope.Facts)
		}
	}
	if m.Status.Phase == "" && !conditions.HasBlocker(validation) {
		if other := ahead(m, o.siblings); other != "" {
			validation = append(validation, conditions.Critical(migv1.Postponed, "",
				fmt.Sprintf("Waiting for migration %s of the same plan to finish: migrations of a plan run one at a time, in the order they were created.", other)))
		}
	}
	if deleting && (conditions.HasBlocker(validation) || scope == nil) {
		return ctrl.Result{}, r.abandon(ctx, m, blockedMessage(validation))
	}
	if conditions.HasBlocker(validation) || scope == nil {
		return r.block(ctx, m.DeepCopy(), m, validation)
	}
	if err := r.ensureFinalizer(ctx, m); err != nil {
		return ctrl.Result{}, err
	}
	before := m.DeepCopy()
	scope.cancelCause = cancelCause(m, o.plan)
	res, runErr := r.run(ctx, scope, validation)
	if err := r.patchStatus(ctx, before, m); err != nil {
		return ctrl.Result{}, err
	}
	r.stepEvents(before, m)
	if m.Status.Phase == itinerary.Completed {
		if err := r.releaseFinalizer(ctx, m); err != nil {
			return ctrl.Result{}, err
		}
	}
	if runErr != nil {
		return ctrl.Result{}, fmt.Errorf("phase %s: %w", m.Status.Phase, runErr)
	}
	return res, nil
}

// statusWriteTimeout bounds a status write. It gets its own context, detached from the
// reconcile's: a reconcile that used up its time must still record what its steps did (a
// reference recorded before its object was created, a phase that completed).
const statusWriteTimeout = 15 * time.Second

// patchStatus writes the migration's status under optimistic locking (see
// conditions.PatchStatusLocked): a conflict fails the reconcile, which runs again on a fresh
// read, rather than writing a status computed from an old one.
func (r *Reconciler) patchStatus(ctx context.Context, before, m *migv1.MigMigration) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusWriteTimeout)
	defer cancel()
	// Every write describes the spec just read: tools (Argo CD's health checks, kubectl wait)
	// compare the two to know the status is current.
	m.Status.ObservedGeneration = m.Generation
	return conditions.PatchStatusLocked(ctx, r.host(), r.Recorder, before, m)
}

// block writes the validation conditions of a migration that cannot run now, keeping what it
// already did.
func (r *Reconciler) block(ctx context.Context, before, m *migv1.MigMigration, validation []migv1.Condition) (ctrl.Result, error) {
	desired := append(slices.Clone(validation), carriedRunning(m)...)
	desired = append(desired, readyCondition(m, validation)...)
	conditions.Apply(m, desired, r.now())
	if err := r.patchStatus(ctx, before, m); err != nil {
		return ctrl.Result{}, err
	}
	if conditions.IsTrue(m.Status.Conditions, migv1.Postponed) {
		return ctrl.Result{RequeueAfter: postponedRecheck}, nil
	}
	return ctrl.Result{RequeueAfter: blockedRecheck}, nil
}

// blockedMessage joins the messages of the blocking conditions.
func blockedMessage(validation []migv1.Condition) string {
	var out []string
	for _, c := range validation {
		if conditions.IsBlocker(c) {
			out = append(out, c.Message)
		}
	}
	if len(out) == 0 {
		return "its plan, clusters or storage are gone"
	}
	return strings.Join(out, " ")
}

// carriedRunning keeps the Running condition of a migration blocked half-way.
func carriedRunning(m *migv1.MigMigration) []migv1.Condition {
	if c := conditions.Find(m.Status.Conditions, migv1.Running); c != nil {
		return []migv1.Condition{*c}
	}
	return nil
}

// readyCondition is Ready while the migration is valid and not finished.
func readyCondition(m *migv1.MigMigration, validation []migv1.Condition) []migv1.Condition {
	if conditions.HasBlocker(validation) || m.Status.Phase == itinerary.Completed {
		return nil
	}
	return []migv1.Condition{conditions.Required(migv1.Ready, "", readyMessage)}
}

// ensureMetadata puts MTC's labels on the migration and makes the plan its owner (not its
// controller: deleting a plan deletes its migrations, as in MTC).
func (r *Reconciler) ensureMetadata(ctx context.Context, m *migv1.MigMigration, plan *migv1.MigPlan) error {
	before := m.DeepCopy()
	labels := m.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[migv1.MigrationUIDLabel] = string(m.UID)
	if plan != nil {
		labels[migv1.MigPlanNameLabel] = plan.Name
		if plan.Namespace == m.Namespace {
			if err := controllerutil.SetOwnerReference(plan, m, r.Client.Scheme()); err != nil {
				return fmt.Errorf("own MigMigration by its MigPlan: %w", err)
			}
		}
	}
	m.SetLabels(labels)
	if equalMeta(before, m) {
		return nil
	}
	if err := r.Client.Patch(ctx, m, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("label MigMigration: %w", err)
	}
	return nil
}

func equalMeta(a, b *migv1.MigMigration) bool {
	if len(a.Labels) != len(b.Labels) || len(a.OwnerReferences) != len(b.OwnerReferences) {
		return false
	}
	for k, v := range a.Labels {
		if b.Labels[k] != v {
			return false
		}
	}
	for i := range a.OwnerReferences {
		if a.OwnerReferences[i].UID != b.OwnerReferences[i].UID {
			return false
		}
	}
	return true
}

func (r *Reconciler) now() metav1.Time { return metav1.NewTime(r.Clock.Now()) }

// host is the client for host objects a step changes and reads back at once (a
// DirectVolumeMigration it created, the plan it asked to refresh): direct when configured,
// since a cache may not show the change yet.
func (r *Reconciler) host() client.Client {
	if r.HostDirect != nil {
		return r.HostDirect
	}
	return r.Client
}

func nowMeta(now func() time.Time) metav1.Time { return metav1.NewTime(now()) }
