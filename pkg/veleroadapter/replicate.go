package veleroadapter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/label"
)

// ErrNotReplicable says that a Backup cannot be replicated (yet): it has not finished, or it
// finished in a phase that leaves nothing to restore.
var ErrNotReplicable = errors.New("backup cannot be replicated")

// ErrNoLocation says that the destination has no BackupStorageLocation on the bucket and
// prefix of the Backup's location on the source.
var ErrNoLocation = errors.New("no matching BackupStorageLocation on the destination")

// ReplicateBackup makes a Completed or PartiallyFailed Backup of the source available on the
// destination at once, instead of after Velero's backup sync (which ticks once a minute). It
// creates on dst, in namespace, the record Velero's backup sync controller
// (pkg/controller/backup_sync_controller.go, v1.18.3) would create from the backup's metadata
// in object storage, from the source's Backup object, which holds the same metadata:
//
//   - same name, labels, annotations, spec and status, no hooks (a synced backup never runs);
//   - spec.storageLocation and the label velero.io/storage-location name the destination's
//     BackupStorageLocation on the same bucket and prefix (the names differ per cluster);
//   - owner references to Schedules dropped (their UIDs never match on another cluster);
//   - then its PodVolumeBackups, with the Backup's new UID in their owner reference and
//     velero.io/backup-uid label, and the destination location; restores of file-system
//     backups read them from the cluster.
//
// A Backup that already exists on dst (Velero synced first, or an earlier call) is success;
// its missing PodVolumeBackups are still created, so a crash between the two steps heals on
// the next call. Velero's own sync then finds the name in the cluster and skips it, and its
// orphan clean-up keeps it because the backup is in the location's object storage. See
// doc.go. The status travels in the create only because Velero's Backup CRD has no status
// subresource; should a Velero add one, the call fails (and is retried until Velero's own
// sync has made the record) rather than leave a New Backup there (createReplica).
func ReplicateBackup(ctx context.Context, src, dst client.Client, namespace, name string) error {
	backup := &velerov1.Backup{}
	if err := src.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, backup); err != nil {
		return fmt.Errorf("replicate backup %s/%s: get it on the source: %w", namespace, name, err)
	}
	switch backup.Status.Phase {
	case velerov1.BackupPhaseCompleted, velerov1.BackupPhasePartiallyFailed:
	default:
		return fmt.Errorf("replicate backup %s/%s: %w: phase %q", namespace, name, ErrNotReplicable, backup.Status.Phase)
	}
	if backup.DeletionTimestamp != nil {
		return fmt.Errorf("replicate backup %s/%s: %w: it is being deleted", namespace, name, ErrNotReplicable)
	}
	location, err := destinationLocation(ctx, src, dst, namespace, backup.Spec.StorageLocation)
	if err != nil {
		return fmt.Errorf("replicate backup %s/%s: %w", namespace, name, err)
	}

	replica, err := createReplica(ctx, dst, syncedBackup(backup, namespace, location))
	if err != nil {
		return fmt.Errorf("replicate backup %s/%s: %w", namespace, name, err)
	}
	if err := replicatePodVolumeBackups(ctx, src, dst, backup, replica); err != nil {
		return fmt.Errorf("replicate backup %s/%s: %w", namespace, name, err)
	}
	return nil
}

// errStatusDropped says the destination's API server does not keep a Backup's status on
// create (a status subresource): a replica would be a New Backup, which the destination's
// Velero would run, uploading under the source backup's name and prefix.
var errStatusDropped = errors.New("the destination's API server drops a Backup's status on create, so a replica would be a New backup " +
	"that its Velero would run over the source's backup; wait for Velero's backup sync instead")

// createReplica creates the replica on dst and returns it as stored, or the Backup of that
// name already there. The replica's status travels in the create only because Velero's
// Backup CRD has no status subresource: a server-side dry run shows first whether the status
// is kept, and the stored object is checked again after the create (a replica left without a
// phase is deleted), so that the destination never holds a New Backup made here.
func createReplica(ctx context.Context, dst client.Client, replica *velerov1.Backup) (*velerov1.Backup, error) {
	key := client.ObjectKeyFromObject(replica)
	dry := replica.DeepCopy()
	created := false
	err := dst.Create(ctx, dry, client.DryRunAll)
	switch {
	case err == nil && !finished(dry):
		return nil, errStatusDropped
	case err != nil && !apierrors.IsAlreadyExists(err):
		return nil, fmt.Errorf("create it on the destination (dry run): %w", err)
	case err == nil:
		err = dst.Create(ctx, replica)
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create it on the destination: %w", err)
		}
		created = err == nil
	}
	stored := &velerov1.Backup{}
	if err := dst.Get(ctx, key, stored); err != nil {
		return nil, fmt.Errorf("get it on the destination: %w", err)
	}
	if !finished(stored) {
		if created {
			// Ours, and New: delete it before the destination's Velero runs it.
			if err := dst.Delete(ctx, stored, client.Preconditions{UID: &stored.UID}); err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%w; deleting the New replica failed: %w", errStatusDropped, err)
			}
			return nil, errStatusDropped
		}
		return nil, fmt.Errorf("a Backup %s without a finished phase (%q) exists on the destination", key, stored.Status.Phase)
	}
	return stored, nil
}

// finished reports whether a Backup is in a phase Velero's backup controller leaves alone.
func finished(b *velerov1.Backup) bool {
	return b.Status.Phase != "" && b.Status.Phase != velerov1.BackupPhaseNew
}

// syncedBackup is what Velero's backup sync creates from the backup's metadata: the object
// without its server-set metadata and hooks, placed in the destination's location.
func syncedBackup(b *velerov1.Backup, namespace, location string) *velerov1.Backup {
	out := &velerov1.Backup{
		ObjectMeta: metav1.ObjectMeta{
			Name:            b.Name,
			Namespace:       namespace,
			Labels:          maps.Clone(b.Labels),
			Annotations:     maps.Clone(b.Annotations),
			OwnerReferences: slices.DeleteFunc(slices.Clone(b.OwnerReferences), isScheduleRef),
			Finalizers:      slices.Clone(b.Finalizers),
		},
		Spec:   *b.Spec.DeepCopy(),
		Status: *b.Status.DeepCopy(),
	}
	out.Spec.Hooks = velerov1.BackupHooks{}
	out.Spec.StorageLocation = location
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	out.Labels[velerov1.StorageLocationLabel] = label.GetValidName(location)
	return out
}

// isScheduleRef reports owner references to Schedules: Velero's sync keeps one only when a
// Schedule of that name and UID exists on the destination, which never holds for a UID of
// another cluster.
func isScheduleRef(ref metav1.OwnerReference) bool { return ref.Kind == "Schedule" }

// replicatePodVolumeBackups creates on dst the PodVolumeBackups of the source's backup that
// are missing, as Velero's sync does after creating the Backup.
func replicatePodVolumeBackups(ctx context.Context, src, dst client.Client, backup, replica *velerov1.Backup) error {
	list := &velerov1.PodVolumeBackupList{}
	if err := src.List(ctx, list, client.InNamespace(backup.Namespace),
		client.MatchingLabels{velerov1.BackupNameLabel: label.GetValidName(backup.Name)}); err != nil {
		return fmt.Errorf("list PodVolumeBackups on the source: %w", err)
	}
	for i := range list.Items {
		pvb := &list.Items[i]
		if uid, ok := pvb.Labels[velerov1.BackupUIDLabel]; ok && uid != string(backup.UID) {
			continue // of an earlier backup of the same name
		}
		out := &velerov1.PodVolumeBackup{
			ObjectMeta: metav1.ObjectMeta{
				Name:            pvb.Name,
				Namespace:       replica.Namespace,
				Labels:          maps.Clone(pvb.Labels),
				Annotations:     maps.Clone(pvb.Annotations),
				OwnerReferences: slices.Clone(pvb.OwnerReferences),
				Finalizers:      slices.Clone(pvb.Finalizers),
			},
			Spec:   *pvb.Spec.DeepCopy(),
			Status: *pvb.Status.DeepCopy(),
		}
		for j, ref := range out.OwnerReferences {
			if ref.APIVersion == velerov1.SchemeGroupVersion.String() && ref.Kind == "Backup" && ref.Name == replica.Name {
				out.OwnerReferences[j].UID = replica.UID
			}
		}
		if _, ok := out.Labels[velerov1.BackupUIDLabel]; ok {
			out.Labels[velerov1.BackupUIDLabel] = string(replica.UID)
		}
		out.Spec.BackupStorageLocation = replica.Spec.StorageLocation
		if err := dst.Create(ctx, out); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create PodVolumeBackup %s/%s on the destination: %w", out.Namespace, out.Name, err)
		}
	}
	return nil
}

// destinationLocation returns the name of the destination's BackupStorageLocation that
// stores what the source's location srcName stores: same provider, bucket and prefix. Among
// several, it prefers the same name, then the same config, then Available, then the default
// location, then the first name. Velero's sync puts a backup in whichever of them it
// processes first; any of them holds the backup, which is what keeps the record from being
// deleted as an orphan and lets restores read it.
func destinationLocation(ctx context.Context, src, dst client.Client, namespace, srcName string) (string, error) {
	want := &velerov1.BackupStorageLocation{}
	if err := src.Get(ctx, client.ObjectKey{Namespace: namespace, Name: srcName}, want); err != nil {
		return "", fmt.Errorf("get BackupStorageLocation %s/%s on the source: %w", namespace, srcName, err)
	}
	list := &velerov1.BackupStorageLocationList{}
	if err := dst.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return "", fmt.Errorf("list BackupStorageLocations on the destination: %w", err)
	}
	var candidates []velerov1.BackupStorageLocation
	for _, l := range list.Items {
		if sameStore(&want.Spec, &l.Spec) {
			candidates = append(candidates, l)
		}
	}
	if len(candidates) == 0 {
		bucket, prefix := store(&want.Spec)
		return "", fmt.Errorf("%w: none in %s has provider %q, bucket %q and prefix %q (of %s on the source)",
			ErrNoLocation, namespace, want.Spec.Provider, bucket, prefix, srcName)
	}
	best := slices.MinFunc(candidates, func(a, b velerov1.BackupStorageLocation) int {
		for _, pref := range []func(*velerov1.BackupStorageLocation) bool{
			func(l *velerov1.BackupStorageLocation) bool { return l.Name == srcName },
			func(l *velerov1.BackupStorageLocation) bool { return maps.Equal(l.Spec.Config, want.Spec.Config) },
			func(l *velerov1.BackupStorageLocation) bool {
				return l.Status.Phase == velerov1.BackupStorageLocationPhaseAvailable
			},
			func(l *velerov1.BackupStorageLocation) bool { return l.Spec.Default },
		} {
			if pa, pb := pref(&a), pref(&b); pa != pb {
				if pa {
					return -1
				}
				return 1
			}
		}
		return strings.Compare(a.Name, b.Name)
	})
	return best.Name, nil
}

// sameStore reports whether two locations point at the same place of the same store.
func sameStore(a, b *velerov1.BackupStorageLocationSpec) bool {
	if provider(a.Provider) != provider(b.Provider) || a.ObjectStorage == nil || b.ObjectStorage == nil {
		return false
	}
	ba, pa := store(a)
	bb, pb := store(b)
	return ba == bb && pa == pb
}

// store returns the bucket and prefix of a location; the prefix without a trailing slash,
// which Velero's object store layout adds.
func store(s *velerov1.BackupStorageLocationSpec) (bucket, prefix string) {
	if s.ObjectStorage == nil {
		return "", ""
	}
	return s.ObjectStorage.Bucket, strings.TrimSuffix(s.ObjectStorage.Prefix, "/")
}

// provider returns a provider name as Velero resolves it: "aws" is "velero.io/aws".
func provider(name string) string {
	if !strings.Contains(name, "/") {
		return "velero.io/" + name
	}
	return name
}
