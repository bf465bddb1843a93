package migplan

import (
	"context"
	"fmt"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// removeStorage deletes the Velero objects of the plan's MigStorage from the plan's clusters,
// except on clusters where another open plan still uses the same MigStorage. A MigCluster or
// MigStorage that no longer exists is skipped (nothing left to reach or to name); a cluster
// that exists but cannot be reached is an error, so the finalizer holds until it can.
func (r *Reconciler) removeStorage(ctx context.Context, plan *migv1.MigPlan) error {
	storage, err := getRef[migv1.MigStorage](ctx, r.Client, plan.Spec.MigStorageRef, plan.Namespace)
	if err != nil || storage == nil {
		return err
	}
	s, err := r.Settings.Get(ctx)
	if err != nil {
		return err
	}
	plans := &migv1.MigPlanList{}
	if err := r.Client.List(ctx, plans); err != nil {
		return fmt.Errorf("list MigPlans: %w", err)
	}
	for _, ref := range []*corev1.ObjectReference{plan.Spec.SrcMigClusterRef, plan.Spec.DestMigClusterRef} {
		cluster, err := getRef[migv1.MigCluster](ctx, r.Client, ref, plan.Namespace)
		if err != nil {
			return err
		}
		if cluster == nil || usedElsewhere(plan, plans.Items, storage, cluster) {
			continue
		}
		c, err := r.Clusters.Get(ctx, cluster)
		if err != nil {
			return fmt.Errorf("client for cluster %s: %w", cluster.Name, err)
		}
		if err := deleteStorageObjects(ctx, c, storage, s.VeleroNamespace); err != nil {
			return fmt.Errorf("remove storage from cluster %s: %w", cluster.Name, err)
		}
	}
	return nil
}

// usedElsewhere reports whether another open plan uses storage on cluster.
func usedElsewhere(plan *migv1.MigPlan, plans []migv1.MigPlan, storage *migv1.MigStorage, cluster *migv1.MigCluster) bool {
	storageKey := client.ObjectKeyFromObject(storage).String()
	clusterKey := client.ObjectKeyFromObject(cluster).String()
	for _, p := range plans {
		if p.UID == plan.UID || p.Spec.Closed || !p.DeletionTimestamp.IsZero() {
			continue
		}
		if k, ok := refKey(p.Spec.MigStorageRef, p.Namespace); !ok || k.String() != storageKey {
			continue
		}
		for _, ref := range []*corev1.ObjectReference{p.Spec.SrcMigClusterRef, p.Spec.DestMigClusterRef} {
			if k, ok := refKey(ref, p.Namespace); ok && k.String() == clusterKey {
				return true
			}
		}
	}
	return false
}

// deleteStorageObjects deletes the storage's Secret and locations, only those labelled as
// created for this MigStorage.
func deleteStorageObjects(ctx context.Context, c client.Client, storage *migv1.MigStorage, namespace string) error {
	names := namesFor(storage)
	objs := []client.Object{
		&velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: names.location}},
		&velerov1.VolumeSnapshotLocation{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: names.location}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: names.secret}},
	}
	for _, obj := range objs {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			if client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("get %T %s: %w", obj, obj.GetName(), err)
			}
			continue
		}
		if obj.GetLabels()[migStorageLabel] != string(storage.UID) {
			continue
		}
		if err := c.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}
