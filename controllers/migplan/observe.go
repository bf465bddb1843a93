package migplan

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// facts is what one reconcile observed. Fields are set by observe (host objects) and
// observeClusters (source and destination); validation reads them and nothing else.
type facts struct {
	plan     *migv1.MigPlan
	settings settings.Settings
	// src, dest and storage are the referenced objects, nil when missing.
	src, dest *migv1.MigCluster
	storage   *migv1.MigStorage
	// hooks are the MigHooks the plan references that exist.
	hooks map[types.NamespacedName]*migv1.MigHook
	// otherPlans are every MigPlan on the host (for PlanConflict).
	otherPlans []migv1.MigPlan
	// clusters are every MigCluster on the host, by namespace/name (PlanConflict compares the
	// other plans' clusters by API server).
	clusters map[types.NamespacedName]*migv1.MigCluster
	// migrations are the plan's MigMigrations.
	migrations []migv1.MigMigration
	// source and destination are read from the clusters when they are Ready; nil otherwise.
	source, destination *clusterFacts
	// incompatible are the source namespaces' resources the destination does not serve,
	// checked when both clusters were read.
	incompatible []migv1.IncompatibleNamespace
}

// observe reads the host objects the plan refers to.
func (r *Reconciler) observe(ctx context.Context, plan *migv1.MigPlan) (*facts, error) {
	f := &facts{plan: plan, hooks: map[types.NamespacedName]*migv1.MigHook{}}
	var err error
	if f.settings, err = r.Settings.Get(ctx); err != nil {
		return nil, err
	}
	if f.src, err = getRef[migv1.MigCluster](ctx, r.Client, plan.Spec.SrcMigClusterRef, plan.Namespace); err != nil {
		return nil, err
	}
	if f.dest, err = getRef[migv1.MigCluster](ctx, r.Client, plan.Spec.DestMigClusterRef, plan.Namespace); err != nil {
		return nil, err
	}
	if f.storage, err = getRef[migv1.MigStorage](ctx, r.Client, plan.Spec.MigStorageRef, plan.Namespace); err != nil {
		return nil, err
	}
	for _, h := range plan.Spec.Hooks {
		hook, err := getRef[migv1.MigHook](ctx, r.Client, h.Reference, plan.Namespace)
		if err != nil {
			return nil, err
		}
		if hook != nil {
			f.hooks[client.ObjectKeyFromObject(hook)] = hook
		}
	}
	plans := &migv1.MigPlanList{}
	if err := r.Client.List(ctx, plans); err != nil {
		return nil, fmt.Errorf("list MigPlans: %w", err)
	}
	f.otherPlans = plans.Items
	clusters := &migv1.MigClusterList{}
	if err := r.Client.List(ctx, clusters); err != nil {
		return nil, fmt.Errorf("list MigClusters: %w", err)
	}
	f.clusters = map[types.NamespacedName]*migv1.MigCluster{}
	for i := range clusters.Items {
		c := &clusters.Items[i]
		f.clusters[types.NamespacedName{Namespace: c.Namespace, Name: c.Name}] = c
	}
	migrations := &migv1.MigMigrationList{}
	if err := r.Client.List(ctx, migrations, client.InNamespace(plan.Namespace), client.MatchingFields{migrationPlanIndex: plan.Name}); err != nil {
		return nil, fmt.Errorf("list MigMigrations of the plan: %w", err)
	}
	f.migrations = migrations.Items
	return f, nil
}

// getRef reads the object a reference names; nil (and no error) when it is unset or missing.
func getRef[T any, PT interface {
	*T
	client.Object
}](ctx context.Context, c client.Reader, ref *corev1.ObjectReference, planNamespace string) (PT, error) {
	key, ok := refKey(ref, planNamespace)
	if !ok {
		return nil, nil
	}
	obj := PT(new(T))
	if err := c.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get %T %s: %w", obj, key, err)
	}
	return obj, nil
}

// clusterReady reports whether a referenced cluster exists and is Ready.
func clusterReady(c *migv1.MigCluster) bool {
	return c != nil && conditions.IsTrue(c.Status.Conditions, migv1.Ready)
}
