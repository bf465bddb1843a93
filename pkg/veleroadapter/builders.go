package veleroadapter

import (
	"maps"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/label"
)

// BackupTTL is how long Velero keeps a migration's backups (MTC: 720h).
const BackupTTL = 720 * time.Hour

// InitialExcludedResources are never in the initial backup: PVs and PVCs move with the stage
// backup (or DVM), image streams with the image migration (MTC's ExcludedInitialResources).
var InitialExcludedResources = []string{"imagestreams", "persistentvolumes", "persistentvolumeclaims"}

// StageResources are the resources of the stage backup when BackupOptions.IncludedResources
// is empty (MTC's IncludedStageResources without "imagestreams", which MTC adds only for
// indirect image migration or DISABLE_IMAGE_COPY: append it to this list in that case).
// Only objects labelled migration-included-stage-backup=<migration UID> are taken.
var StageResources = []string{
	"configmaps", "namespaces", "persistentvolumeclaims", "persistentvolumes", "pods", "secrets", "serviceaccounts",
}

// BackupOptions carry the plan's choices for a Backup.
type BackupOptions struct {
	// VeleroNamespace is the namespace of Velero and of the Backup.
	VeleroNamespace string
	// StorageLocation is the name of the BackupStorageLocation.
	StorageLocation string
	// SnapshotLocation is the name of the VolumeSnapshotLocation; "" for none.
	SnapshotLocation string
	// Namespaces are the source namespaces.
	Namespaces []string
	// IncludedResources are resource names as Velero takes them ("secrets",
	// "deployments.apps"); empty means all (initial backup) or StageResources (stage backup).
	IncludedResources []string
	// ExcludedResources come from the settings (EXCLUDED_RESOURCES) and the plan.
	ExcludedResources []string
	// LabelSelector is the plan's label selector (initial backup only).
	LabelSelector *metav1.LabelSelector
	// KeepImageStreams puts the ImageStream objects in the initial backup although their
	// images are not copied (DISABLE_IMAGE_COPY: "keep the ImageStream objects"), and
	// annotates the Backup migration.openshift.io/disable-image-copy=true as MTC does.
	KeepImageStreams bool
	// Annotations are added to MTC's own (for example openshift.io/migration-registry for
	// indirect image migration); MTC's keys win.
	Annotations map[string]string
}

// RestoreOptions carry the plan's choices for a Restore.
type RestoreOptions struct {
	// VeleroNamespace is the namespace of Velero and of the Restore.
	VeleroNamespace string
	// BackupName is the Backup to restore (NewInitialBackup's for the final restore,
	// NewStageBackup's for the stage restore).
	BackupName string
	// NamespaceMapping maps source to destination namespaces; identity entries are dropped.
	NamespaceMapping map[string]string
	// ExcludedResources are not restored, as resource.group (from the plan's
	// status.incompatibleNamespaces).
	ExcludedResources []string
	// StagePodImage is the destination's stage pod image (stage restore only): the plugin
	// gives it to restored stage pods.
	StagePodImage string
	// Annotations are added to MTC's own; MTC's keys win.
	Annotations map[string]string
}

// NewInitialBackup returns the initial Backup of a final migration: every selected object of
// the source namespaces except PVs, PVCs and image streams (MTC §10.1).
func NewInitialBackup(m Migration, o BackupOptions) *velerov1.Backup {
	initial := InitialExcludedResources
	if o.KeepImageStreams {
		initial = minus(initial, []string{"imagestreams"})
	}
	excluded := union(initial, o.ExcludedResources)
	b := newBackup(m, InitialBackup, o)
	b.Spec.IncludedResources = minus(o.IncludedResources, excluded)
	b.Spec.ExcludedResources = excluded
	b.Spec.LabelSelector = o.LabelSelector.DeepCopy()
	return b
}

// NewStageBackup returns the stage Backup: the PVs, PVCs, pods (stage pods) and the few
// objects they need, selected by the label migration-included-stage-backup=<migration UID>
// (MTC §10.1). Volume data goes with the pods' backup.velero.io/backup-volumes annotations
// or the snapshot location.
func NewStageBackup(m Migration, o BackupOptions) *velerov1.Backup {
	included := o.IncludedResources
	if len(included) == 0 {
		included = StageResources
	}
	excluded := union(nil, o.ExcludedResources)
	b := newBackup(m, StageBackup, o)
	b.Spec.IncludedResources = minus(included, excluded)
	b.Spec.ExcludedResources = excluded
	b.Spec.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{IncludedInStageBackupLabel: m.UID}}
	return b
}

// newBackup returns what the initial and the stage Backup share.
func newBackup(m Migration, role Role, o BackupOptions) *velerov1.Backup {
	b := &velerov1.Backup{
		ObjectMeta: metav1.ObjectMeta{
			Name:        Name(m, role),
			Namespace:   o.VeleroNamespace,
			Labels:      migrationLabels(m, role),
			Annotations: annotations(o.Annotations, backupAnnotations(m, role, o)),
		},
		Spec: velerov1.BackupSpec{
			IncludedNamespaces: slices.Clone(o.Namespaces),
			StorageLocation:    o.StorageLocation,
			TTL:                metav1.Duration{Duration: BackupTTL},
		},
	}
	if o.SnapshotLocation != "" {
		b.Spec.VolumeSnapshotLocations = []string{o.SnapshotLocation}
	}
	return b
}

// DisableImageCopyAnnotation marks the Backups of a migration whose images are not copied
// (MTC's key).
const DisableImageCopyAnnotation = "migration.openshift.io/disable-image-copy"

// backupAnnotations are MTC's annotations of a Backup.
func backupAnnotations(m Migration, role Role, o BackupOptions) map[string]string {
	out := migrationAnnotations(m, role) // a new map
	if o.KeepImageStreams {
		out[DisableImageCopyAnnotation] = "true"
	}
	return out
}

// NewFinalRestore returns the Restore of the initial backup on the destination.
func NewFinalRestore(m Migration, o RestoreOptions) *velerov1.Restore {
	return newRestore(m, FinalRestore, o)
}

// NewStageRestore returns the Restore of the stage backup on the destination, with the
// stage pod image annotation when RestoreOptions.StagePodImage is set.
func NewStageRestore(m Migration, o RestoreOptions) *velerov1.Restore {
	r := newRestore(m, StageRestore, o)
	if o.StagePodImage != "" {
		r.Annotations[StagePodImageAnnotation] = o.StagePodImage
	}
	return r
}

func newRestore(m Migration, role Role, o RestoreOptions) *velerov1.Restore {
	r := &velerov1.Restore{
		ObjectMeta: metav1.ObjectMeta{
			Name:        Name(m, role),
			Namespace:   o.VeleroNamespace,
			Labels:      migrationLabels(m, role),
			Annotations: annotations(o.Annotations, migrationAnnotations(m, role)),
		},
		Spec: velerov1.RestoreSpec{
			BackupName:        o.BackupName,
			RestorePVs:        ptr.To(true),
			ExcludedResources: union(nil, o.ExcludedResources),
		},
	}
	for src, dst := range o.NamespaceMapping {
		if src == dst || dst == "" {
			continue
		}
		if r.Spec.NamespaceMapping == nil {
			r.Spec.NamespaceMapping = map[string]string{}
		}
		r.Spec.NamespaceMapping[src] = dst
	}
	return r
}

// NewDeleteBackupRequest returns a request for Velero to delete a Backup with its data in
// object storage (cancel, rollback, stale cleanup), shaped like `velero backup delete`'s
// (pkg/backup.NewDeleteBackupRequest): generateName "<backup>-" and the label
// velero.io/backup-name, by which callers find pending requests.
//
// The name is generated, not deterministic, on purpose: Velero keeps a processed request for
// 24 hours, also one that failed ("backup is still in progress"), so a fixed name would turn
// every later attempt into AlreadyExists and leave the backup in place. Extra requests from a
// controller that crashed between create and status update are harmless: when Velero
// processes a request it first deletes the other requests for the same backup.
func NewDeleteBackupRequest(veleroNamespace, backupName string) *velerov1.DeleteBackupRequest {
	return &velerov1.DeleteBackupRequest{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: backupName + "-",
			Namespace:    veleroNamespace,
			Labels:       map[string]string{velerov1.BackupNameLabel: label.GetValidName(backupName)},
		},
		Spec: velerov1.DeleteBackupRequestSpec{BackupName: backupName},
	}
}

// annotations merges extra and own into a new map; own wins.
func annotations(extra, own map[string]string) map[string]string {
	a := maps.Clone(extra)
	if a == nil {
		a = map[string]string{}
	}
	maps.Copy(a, own)
	return a
}

// union returns the sorted, de-duplicated union of a and b; nil when empty.
func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// minus returns the sorted, de-duplicated items of a that are not in b; nil when empty.
// Velero fails the validation of a Backup that names a resource both included and excluded.
func minus(a, b []string) []string {
	out := union(a, nil)
	out = slices.DeleteFunc(out, func(s string) bool { return slices.Contains(b, s) })
	if len(out) == 0 {
		return nil
	}
	return out
}
