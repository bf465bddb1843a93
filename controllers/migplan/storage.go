package migplan

import (
	"context"
	"errors"
	"fmt"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/objectstore"
	"github.com/ferrymtc/ferry/pkg/secretref"
)

// Labels on the Velero objects Ferry creates for a MigStorage on a cluster.
const (
	partOfLabel     = "app.kubernetes.io/part-of"
	partOfValue     = "openshift-migration"
	migStorageLabel = "migstorage"
)

const storageEnsuredMessage = "The storage resources have been created."

// errStorageOwnedElsewhere says an object with the name Ferry needs belongs to something else.
var errStorageOwnedElsewhere = errors.New("exists and was not created for this MigStorage")

// storageNames are the names of the Velero objects of a MigStorage on every cluster. They are
// derived from the MigStorage, so every plan using it shares them and a crash never leaves a
// second copy behind.
type storageNames struct{ location, secret string }

func namesFor(storage *migv1.MigStorage) storageNames {
	return storageNames{location: storage.Name, secret: storage.Name + "-credentials"}
}

// ensureStorage makes sure the BackupStorageLocation, VolumeSnapshotLocation and credentials
// Secret of the plan's MigStorage exist, up to date, in the Velero namespace of both clusters.
// When the plan is not ready for it, the previous StorageEnsured condition is kept.
func (r *Reconciler) ensureStorage(ctx context.Context, f *facts, desired []migv1.Condition) ([]migv1.Condition, error) {
	if f.storage == nil || f.source == nil || f.destination == nil || conditions.HasBlocker(desired) {
		return carried(f.plan.Status.Conditions, migv1.StorageEnsured), nil
	}
	if err := r.addFinalizer(ctx, f.plan); err != nil {
		return nil, err
	}
	creds, err := r.credentials(ctx, f.storage)
	if err != nil {
		return nil, err
	}
	clusters := distinct(f.src, f.dest)
	objects, problem := buildForClusters(f, creds, clusters)
	if problem != nil {
		return []migv1.Condition{*problem}, nil
	}
	for i, cluster := range clusters {
		c, err := r.Clusters.Get(ctx, cluster)
		if err != nil {
			return nil, fmt.Errorf("client for cluster %s: %w", cluster.Name, err)
		}
		for _, obj := range objects[i] {
			if err := apply(ctx, c, obj, f.storage); err != nil {
				if errors.Is(err, errStorageOwnedElsewhere) {
					return []migv1.Condition{conditions.Critical(migv1.StorageEnsured, migv1.Conflict,
						fmt.Sprintf("On cluster %s: %v.", cluster.Name, err))}, nil
				}
				return nil, fmt.Errorf("ensure storage on cluster %s: %w", cluster.Name, err)
			}
		}
	}
	ensured := conditions.Required(migv1.StorageEnsured, migv1.Done, storageEnsuredMessage)
	return []migv1.Condition{ensured}, nil
}

// buildForClusters builds the objects of every cluster, or returns the condition that says why
// the storage settings cannot be turned into Velero objects (the user's to fix, not a retry).
func buildForClusters(f *facts, creds map[string][]byte, clusters []*migv1.MigCluster) ([][]client.Object, *migv1.Condition) {
	out := make([][]client.Object, 0, len(clusters))
	for _, cluster := range clusters {
		objs, err := veleroObjects(f.storage, creds, f.settings.VeleroNamespace, cluster)
		if err != nil {
			c := conditions.Critical(migv1.StorageEnsured, migv1.NotDone, "The storage resources cannot be built: "+err.Error())
			return nil, &c
		}
		out = append(out, objs)
	}
	return out, nil
}

// veleroObjects builds the credentials Secret and the two locations of storage for one
// cluster (Azure credentials carry that cluster's resource group).
func veleroObjects(storage *migv1.MigStorage, creds map[string][]byte, namespace string, cluster *migv1.MigCluster) ([]client.Object, error) {
	names := namesFor(storage)
	meta := func(name string) metav1.ObjectMeta {
		labels := map[string]string{partOfLabel: partOfValue, migStorageLabel: string(storage.UID)}
		return metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}
	}
	opts := objectstore.CredentialOptions{
		CABundle:           storage.Spec.BackupStorageConfig.S3CustomCABundle,
		AzureResourceGroup: cluster.Spec.AzureResourceGroup,
	}
	secret, err := objectstore.CloudCredentialsSecret(meta(names.secret), storage.Spec.BackupStorageProvider, creds, opts)
	if err != nil {
		return nil, err
	}
	selector := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: names.secret}, Key: objectstore.CloudCredentialsKey}
	bsl, err := objectstore.BackupStorageLocation(meta(names.location), &storage.Spec, selector)
	if err != nil {
		return nil, err
	}
	snapshots := &corev1.SecretKeySelector{LocalObjectReference: selector.LocalObjectReference, Key: objectstore.SnapshotCredentialsKey}
	vsl, err := objectstore.VolumeSnapshotLocation(meta(names.location), &storage.Spec, snapshots)
	if err != nil {
		return nil, err
	}
	return []client.Object{secret, bsl, vsl}, nil
}

// apply creates desired or brings the existing object's spec (or data) and labels up to date.
// It refuses to touch an object of that name that is not labelled for this MigStorage.
func apply(ctx context.Context, c client.Client, desired client.Object, storage *migv1.MigStorage) error {
	existing := desired.DeepCopyObject().(client.Object)
	err := c.Get(ctx, client.ObjectKeyFromObject(desired), existing)
	if apierrors.IsNotFound(err) {
		if err := c.Create(ctx, desired); err != nil {
			return fmt.Errorf("create %T %s: %w", desired, desired.GetName(), err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("get %T %s: %w", desired, desired.GetName(), err)
	}
	if existing.GetLabels()[migStorageLabel] != string(storage.UID) {
		return fmt.Errorf("%T %s/%s %w", desired, desired.GetNamespace(), desired.GetName(), errStorageOwnedElsewhere)
	}
	_, err = controllerutil.CreateOrPatch(ctx, c, existing, func() error {
		copyContent(existing, desired)
		return nil
	})
	if err != nil {
		return fmt.Errorf("update %T %s: %w", desired, desired.GetName(), err)
	}
	return nil
}

// copyContent copies what Ferry owns of desired into existing.
func copyContent(existing, desired client.Object) {
	existing.SetLabels(desired.GetLabels())
	switch e := existing.(type) {
	case *corev1.Secret:
		e.Data = desired.(*corev1.Secret).Data
	case *velerov1.BackupStorageLocation:
		e.Spec = desired.(*velerov1.BackupStorageLocation).Spec
	case *velerov1.VolumeSnapshotLocation:
		e.Spec = desired.(*velerov1.VolumeSnapshotLocation).Spec
	}
}

// credentials reads the MigStorage's credentials Secret on the host.
func (r *Reconciler) credentials(ctx context.Context, storage *migv1.MigStorage) (map[string][]byte, error) {
	key, ok, err := secretref.Key(storage.Spec.BackupStorageConfig.CredsSecretRef, storage.Namespace)
	switch {
	case !ok:
		return nil, fmt.Errorf("MigStorage %s has no credsSecretRef", storage.Name)
	case err != nil:
		return nil, fmt.Errorf("MigStorage %s: %w", storage.Name, err)
	}
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, secret); err != nil {
		return nil, fmt.Errorf("read credentials Secret %s: %w", key, err)
	}
	return secret.Data, nil
}

func (r *Reconciler) addFinalizer(ctx context.Context, plan *migv1.MigPlan) error {
	if controllerutil.ContainsFinalizer(plan, storageFinalizer) {
		return nil
	}
	before := plan.DeepCopy()
	controllerutil.AddFinalizer(plan, storageFinalizer)
	if err := r.Client.Patch(ctx, plan, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("add finalizer: %w", err)
	}
	return nil
}

// distinct returns the clusters, once each (an intra-cluster plan names one twice).
func distinct(clusters ...*migv1.MigCluster) []*migv1.MigCluster {
	var out []*migv1.MigCluster
	for _, c := range clusters {
		if c != nil && !containsCluster(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func containsCluster(list []*migv1.MigCluster, c *migv1.MigCluster) bool {
	for _, o := range list {
		if o.Namespace == c.Namespace && o.Name == c.Name {
			return true
		}
	}
	return false
}
