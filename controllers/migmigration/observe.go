package migmigration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// observed is what a reconcile reads on the host before deciding anything.
type observed struct {
	migration *migv1.MigMigration
	// plan is nil when the reference is unset or the plan does not exist.
	plan *migv1.MigPlan
	// siblings are the plan's migrations, this one included.
	siblings  []migv1.MigMigration
	src, dest *migv1.MigCluster
	storage   *migv1.MigStorage
	settings  settings.Settings
}

// observe reads the migration's plan, its other migrations, clusters and storage.
func (r *Reconciler) observe(ctx context.Context, m *migv1.MigMigration) (*observed, error) {
	o := &observed{migration: m}
	s, err := r.Settings.Get(ctx)
	if err != nil {
		return nil, err
	}
	o.settings = s
	key, ok := planKey(m)
	if !ok {
		return o, nil
	}
	plan := &migv1.MigPlan{}
	if err := r.Client.Get(ctx, key, plan); err != nil {
		if apierrors.IsNotFound(err) {
			return o, nil
		}
		return nil, fmt.Errorf("get MigPlan %s: %w", key, err)
	}
	o.plan = plan
	list := &migv1.MigMigrationList{}
	if err := r.Client.List(ctx, list, client.InNamespace(m.Namespace), client.MatchingFields{migrationPlanIndex: key.Name}); err != nil {
		return nil, fmt.Errorf("list migrations of MigPlan %s: %w", key, err)
	}
	o.siblings = list.Items
	if o.src, err = getRef(ctx, r.Client, plan.Spec.SrcMigClusterRef, plan.Namespace, &migv1.MigCluster{}); err != nil {
		return nil, err
	}
	if o.dest, err = getRef(ctx, r.Client, plan.Spec.DestMigClusterRef, plan.Namespace, &migv1.MigCluster{}); err != nil {
		return nil, err
	}
	if o.storage, err = getRef(ctx, r.Client, plan.Spec.MigStorageRef, plan.Namespace, &migv1.MigStorage{}); err != nil {
		return nil, err
	}
	return o, nil
}

// getRef reads a referenced object; nil when the reference is unset or the object is gone
// (the plan is then not Ready, which validation reports).
func getRef[T client.Object](ctx context.Context, c client.Reader, ref *corev1.ObjectReference, defaultNS string, obj T) (T, error) {
	var zero T
	if ref == nil || ref.Name == "" {
		return zero, nil
	}
	ns := ref.Namespace
	if ns == "" {
		ns = defaultNS
	}
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return zero, nil
		}
		return zero, fmt.Errorf("get %T %s/%s: %w", obj, ns, ref.Name, err)
	}
	return obj, nil
}

// planKey returns the migration's plan reference; a plan reference without a namespace means
// the migration's own.
func planKey(m *migv1.MigMigration) (types.NamespacedName, bool) {
	ref := m.Spec.MigPlanRef
	if ref == nil || ref.Name == "" {
		return types.NamespacedName{}, false
	}
	ns := ref.Namespace
	if ns == "" {
		ns = m.Namespace
	}
	return types.NamespacedName{Namespace: ns, Name: ref.Name}, true
}

// hasImageStreams says whether the source namespaces hold ImageStreams; false where the
// ImageStream API is not served (plain Kubernetes).
func hasImageStreams(ctx context.Context, c client.Client, namespaces []string) (bool, error) {
	gvk := schema.GroupVersionKind{Group: "image.openshift.io", Version: "v1", Kind: "ImageStreamList"}
	if _, err := c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
		if meta.IsNoMatchError(err) {
			return false, nil
		}
		return false, fmt.Errorf("look up the ImageStream API: %w", err)
	}
	for _, ns := range namespaces {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk)
		if err := c.List(ctx, list, client.InNamespace(ns), client.Limit(1)); err != nil {
			return false, fmt.Errorf("list ImageStreams in %s: %w", ns, err)
		}
		if len(list.Items) > 0 {
			return true, nil
		}
	}
	return false, nil
}
