package migplan

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/watch"
)

// Field indexes: plans by the objects they reference, migrations by their plan.
const (
	clusterRefIndex    = "migplan.spec.clusterRefs"
	storageRefIndex    = "migplan.spec.migStorageRef"
	hookRefIndex       = "migplan.spec.hooks"
	migrationPlanIndex = "migmigration.spec.migPlanRef"
)

// SetupWithManager registers the controller, its field indexes and its watches: plans, the
// clusters, storages and hooks they reference (status changes included, since readiness lives
// there) and their migrations (which suspend a plan).
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Clusters == nil || r.Settings == nil || r.Recorder == nil || r.APIReader == nil {
		return fmt.Errorf("%s controller: Clusters, Settings, Recorder and APIReader are required", ControllerName)
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	indexer := mgr.GetFieldIndexer()
	indexes := []struct {
		obj   client.Object
		field string
		fn    client.IndexerFunc
	}{
		{&migv1.MigPlan{}, clusterRefIndex, func(o client.Object) []string {
			p := o.(*migv1.MigPlan)
			return keys(p.Namespace, p.Spec.SrcMigClusterRef, p.Spec.DestMigClusterRef)
		}},
		{&migv1.MigPlan{}, storageRefIndex, func(o client.Object) []string {
			p := o.(*migv1.MigPlan)
			return keys(p.Namespace, p.Spec.MigStorageRef)
		}},
		{&migv1.MigPlan{}, hookRefIndex, func(o client.Object) []string {
			p := o.(*migv1.MigPlan)
			var out []string
			for _, h := range p.Spec.Hooks {
				out = append(out, keys(p.Namespace, h.Reference)...)
			}
			return out
		}},
		{&migv1.MigMigration{}, migrationPlanIndex, func(o client.Object) []string {
			m := o.(*migv1.MigMigration)
			if m.Spec.MigPlanRef == nil {
				return nil
			}
			return []string{m.Spec.MigPlanRef.Name}
		}},
	}
	for _, ix := range indexes {
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.fn); err != nil {
			return fmt.Errorf("index %s: %w", ix.field, err)
		}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&migv1.MigPlan{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&migv1.MigCluster{}, handler.EnqueueRequestsFromMapFunc(r.plansReferencing(clusterRefIndex))).
		Watches(&migv1.MigStorage{}, handler.EnqueueRequestsFromMapFunc(r.plansReferencing(storageRefIndex))).
		// A rotated storage credential must reach both clusters' copies at once; metadata only,
		// so credentials never sit in the operator's caches.
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.plansUsingCredentials)).
		Watches(&migv1.MigHook{}, handler.EnqueueRequestsFromMapFunc(r.plansReferencing(hookRefIndex))).
		Watches(&migv1.MigMigration{}, handler.EnqueueRequestsFromMapFunc(planOfMigration)).
		// Settings apply to every plan at once: limits and excluded resources may change.
		Watches(&migv1.MigrationController{}, handler.EnqueueRequestsFromMapFunc(r.allPlans)).
		Complete(r)
}

func keys(namespace string, refs ...*corev1.ObjectReference) []string {
	var out []string
	for _, ref := range refs {
		if k, ok := refKey(ref, namespace); ok {
			out = append(out, k.String())
		}
	}
	return out
}

// plansReferencing maps an event on a referenced object to the plans that reference it.
func (r *Reconciler) plansReferencing(index string) handler.MapFunc {
	return watch.Referencing(r.Client, func() client.ObjectList { return &migv1.MigPlanList{} }, index)
}

// plansUsingCredentials maps a Secret event to the plans whose MigStorage uses it.
func (r *Reconciler) plansUsingCredentials(ctx context.Context, secret client.Object) []reconcile.Request {
	storages := &migv1.MigStorageList{}
	if err := r.Client.List(ctx, storages); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List MigStorages for a Secret")
		return nil
	}
	var reqs []reconcile.Request
	for i := range storages.Items {
		st := &storages.Items[i]
		key, ok := refKey(st.Spec.BackupStorageConfig.CredsSecretRef, st.Namespace)
		if ok && key.Namespace == secret.GetNamespace() && key.Name == secret.GetName() {
			reqs = append(reqs, r.plansReferencing(storageRefIndex)(ctx, st)...)
		}
	}
	return reqs
}

// allPlans maps an event to every open plan.
func (r *Reconciler) allPlans(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &migv1.MigPlanList{}
	if err := r.Client.List(ctx, list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List MigPlans")
		return nil
	}
	var reqs []reconcile.Request
	for _, p := range list.Items {
		if !p.Spec.Closed {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
		}
	}
	return reqs
}

func planOfMigration(_ context.Context, obj client.Object) []reconcile.Request {
	m, ok := obj.(*migv1.MigMigration)
	if !ok || m.Spec.MigPlanRef == nil || m.Spec.MigPlanRef.Name == "" {
		return nil
	}
	ns := m.Spec.MigPlanRef.Namespace
	if ns == "" {
		ns = m.Namespace
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: m.Spec.MigPlanRef.Name}}}
}

// newSuffix returns the plan's random 4-character suffix (MTC: storage conversion PVC names).
func newSuffix() string { return utilrand.String(4) }

// discoveryInput gathers what PV discovery needs from the facts.
func (f *facts) discoveryInput() DiscoveryInput {
	return DiscoveryInput{
		Plan:        f.plan,
		PVs:         f.source.pvs,
		PVCs:        f.source.pvcs,
		Pods:        f.source.pods,
		Templates:   f.source.templates,
		SrcClasses:  f.source.classes,
		DestClasses: f.destination.classes,
		Settings:    f.settings,
		Usage:       f.source.usage,
	}
}
