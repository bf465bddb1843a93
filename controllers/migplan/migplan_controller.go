package migplan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/settings"
)

const (
	// ControllerName names the controller in logs, metrics and events.
	ControllerName = "migplan"
	// recheckInterval re-reads the clusters: pods, PVCs and namespaces there change without
	// any event reaching the host.
	recheckInterval = 2 * time.Minute
	// conflictRecheckInterval is MTC's retry for plans in conflict.
	conflictRecheckInterval = 10 * time.Second
)

// Reconciler reconciles MigPlans.
type Reconciler struct {
	// Client reads plans and what they reference, and patches plans.
	Client client.Client
	// APIReader reads credentials Secrets without caching them.
	APIReader client.Reader
	// Clusters hands out clients for the source and destination clusters.
	Clusters *clustercache.Cache
	// Settings reads the MigrationController settings in force.
	Settings *settings.Reader
	// Recorder emits an event per condition change.
	Recorder events.EventRecorder
	// Clock stamps condition transitions.
	Clock clock.PassiveClock
}

// +kubebuilder:rbac:groups=migration.openshift.io,resources=migplans,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migplans/finalizers,verbs=update
// +kubebuilder:rbac:groups=migration.openshift.io,resources=migclusters;migstorages;mighooks;migmigrations,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Reconcile validates a plan, discovers its volumes and ensures its storage.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	plan := &migv1.MigPlan{}
	if err := r.Client.Get(ctx, req.NamespacedName, plan); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get MigPlan: %w", err)
	}
	if !plan.DeletionTimestamp.IsZero() || plan.Spec.Closed {
		return r.retire(ctx, plan)
	}
	if err := r.ensureSuffix(ctx, plan); err != nil {
		return ctrl.Result{}, err
	}
	f, err := r.observe(ctx, plan)
	if err != nil {
		return ctrl.Result{}, err
	}
	suspended := isSuspended(plan, f.migrations)
	if !suspended {
		if err := r.observeClusters(ctx, f); err != nil {
			return ctrl.Result{}, err
		}
	}
	desired, discovery, err := r.evaluate(ctx, f, suspended)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.patchSpec(ctx, plan, discovery); err != nil {
		if !tooLarge(err) || discovery == nil {
			return ctrl.Result{}, err
		}
		// Retrying cannot help: the list is as large as the namespaces make it.
		desired = append(slices.DeleteFunc(desired, func(c migv1.Condition) bool { return c.Type == migv1.Ready }),
			pvListTooLarge(len(discovery.PersistentVolumes), err))
	}
	if err := r.patchStatus(ctx, plan, f, discovery, desired); err != nil {
		return ctrl.Result{}, err
	}
	if conditions.IsTrue(desired, migv1.PlanConflict) {
		return ctrl.Result{RequeueAfter: conflictRecheckInterval}, nil
	}
	return ctrl.Result{RequeueAfter: recheckInterval}, nil
}

// ensureSuffix gives a new plan its random suffix, persisted before anything reads it: PV
// discovery names a storage conversion's PVCs with it, in the spec.
func (r *Reconciler) ensureSuffix(ctx context.Context, plan *migv1.MigPlan) error {
	if plan.Status.Suffix != nil {
		return nil
	}
	before := plan.DeepCopy()
	suffix := newSuffix()
	plan.Status.Suffix = &suffix
	if err := r.Client.Status().Patch(ctx, plan, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("record the plan's suffix: %w", err)
	}
	return nil
}

// evaluate computes the plan's conditions, running PV discovery (returned, nil when skipped)
// and the storage step when the plan allows them.
func (r *Reconciler) evaluate(ctx context.Context, f *facts, suspended bool) ([]migv1.Condition, *DiscoveryResult, error) {
	previous := f.plan.Status.Conditions
	desired := validate(f)
	if suspended {
		desired = append(desired, conditions.Advisory(migv1.Suspended, "", suspendedMessage))
		desired = append(desired, carried(previous, append(pvConditionTypes, migv1.StorageEnsured, migv1.GVKsIncompatible, migv1.DestinationPVCsExist)...)...)
		return withReady(desired), nil, nil
	}
	conversion := planType(desired) == migv1.StorageConversionPlan
	var discovery *DiscoveryResult
	if f.source != nil && f.destination != nil && !conditions.HasBlocker(desired) {
		in := f.discoveryInput()
		in.StorageConversion = conversion
		result := DiscoverPVs(in)
		discovery = &result
		desired = append(desired, result.Conditions...)
		desired = append(desired, validateVolumes(result.PersistentVolumes, result.DestStorageClasses, conversion)...)
		desired = append(desired, existingDestinationPVCs(f.plan, result.PersistentVolumes, f.destination.pvcs)...)
		if conversion {
			desired = append(desired, validateClaimSwaps(result.PersistentVolumes, in.PVCs, in.Templates)...)
		}
	} else {
		// Discovery cannot run (a cluster is unreachable, or a blocker): the selections the
		// plan holds are still checked, against the storage classes last seen, as MTC does.
		desired = append(desired, validateVolumes(f.plan.Spec.PersistentVolumes, f.plan.Status.DestStorageClasses, conversion)...)
	}
	storage, err := r.ensureStorage(ctx, f, desired)
	if err != nil {
		return nil, nil, err
	}
	desired = append(desired, storage...)
	return withReady(desired), discovery, nil
}

// validateVolumes checks the PV selections, and those of a storage conversion plan.
func validateVolumes(pvs []migv1.PV, destClasses []migv1.StorageClass, conversion bool) []migv1.Condition {
	out := ValidatePVSelections(pvs, destClasses)
	if conversion {
		out = append(out, validateStorageConversion(pvs, destClasses)...)
	}
	return out
}

// patchSpec writes the discovered PVs and resets spec.refresh. The optimistic lock makes a
// concurrent user edit win: this reconcile fails with a conflict and runs again.
func (r *Reconciler) patchSpec(ctx context.Context, plan *migv1.MigPlan, discovery *DiscoveryResult) error {
	before := plan.DeepCopy()
	if discovery != nil {
		plan.Spec.PersistentVolumes = discovery.PersistentVolumes
	}
	plan.Spec.Refresh = false
	if equality.Semantic.DeepEqual(before.Spec, plan.Spec) {
		return nil
	}
	if err := r.Client.Patch(ctx, plan, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		// The status patch that follows is computed against the plan as stored.
		plan.Spec = before.Spec
		return fmt.Errorf("patch MigPlan spec: %w", err)
	}
	return nil
}

// tooLarge reports whether the API server refused a write for its size: over its own request
// limit (3 MiB) it answers 413, while etcd's smaller limit (1.5 MiB by default) comes back from
// a patch as an internal error that only etcd's message names.
func tooLarge(err error) bool {
	return apierrors.IsRequestEntityTooLargeError(err) || strings.Contains(err.Error(), "etcdserver: request is too large")
}

// pvListTooLarge is the blocker of a plan whose discovered PVs the API server refused to
// store: a MigPlan lists its PVs in its spec, as MTC's does, and one object holds at most
// about 1.5 MiB (etcd's default request limit).
func pvListTooLarge(pvs int, err error) migv1.Condition {
	return conditions.Critical(migv1.PvListTooLarge, migv1.LimitExceeded, fmt.Sprintf(
		"The %d PVs of the plan's namespaces do not fit in one MigPlan (%v). Split the namespaces over several plans.", pvs, err))
}

// patchStatus writes the conditions and observed details, with an event per change.
func (r *Reconciler) patchStatus(ctx context.Context, plan *migv1.MigPlan, f *facts, discovery *DiscoveryResult, desired []migv1.Condition) error {
	before := plan.DeepCopy()
	conditions.Apply(plan, desired, metav1.NewTime(r.Clock.Now()))
	plan.Status.ObservedGeneration = plan.Generation
	plan.Status.ExcludedResources = f.settings.ExcludedResources
	if f.source != nil {
		plan.Status.Namespaces = unhealthyNamespaces(f.source.pods)
	}
	if !conditions.IsTrue(desired, migv1.Suspended) {
		// Kept while suspended, with its condition: a running migration's restore excludes them.
		plan.Status.IncompatibleNamespaces = f.incompatible
	}
	if discovery != nil {
		plan.Status.SrcStorageClasses, plan.Status.DestStorageClasses = discovery.SrcStorageClasses, discovery.DestStorageClasses
	}
	return conditions.PatchStatus(ctx, r.Client, r.Recorder, before, plan)
}
