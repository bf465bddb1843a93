package migmigration

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

// Roles of the Velero objects in status.references.
const (
	roleInitialBackup = "InitialBackup"
	roleStageBackup   = "StageBackup"
	roleStageRestore  = "StageRestore"
	roleFinalRestore  = "FinalRestore"
)

// backupKind describes one of the migration's Backups: its role, how to build it and what
// its failure is called.
type backupKind struct {
	role        veleroadapter.Role
	refRole     string
	warning     string // condition type of a partial failure
	failure     string // reason of a failure
	build       func(veleroadapter.Migration, veleroadapter.BackupOptions) *velerov1.Backup
	stageLabels bool // the Backup selects the objects AnnotateResources labelled
}

// restoreKind describes one of the migration's Restores and the Backup it restores.
type restoreKind struct {
	role    veleroadapter.Role
	refRole string
	backup  veleroadapter.Role
	warning string
	failure string
	build   func(veleroadapter.Migration, veleroadapter.RestoreOptions) *velerov1.Restore
}

var (
	initialBackup = backupKind{role: veleroadapter.InitialBackup, refRole: roleInitialBackup,
		warning: migv1.VeleroInitialBackupPartiallyFailed, failure: "InitialBackupFailed", build: veleroadapter.NewInitialBackup}
	stageBackup = backupKind{role: veleroadapter.StageBackup, refRole: roleStageBackup, stageLabels: true,
		warning: migv1.VeleroStageBackupPartiallyFailed, failure: "StageBackupFailed", build: veleroadapter.NewStageBackup}
	finalRestore = restoreKind{role: veleroadapter.FinalRestore, refRole: roleFinalRestore, backup: veleroadapter.InitialBackup,
		warning: migv1.VeleroFinalRestorePartiallyFailed, failure: "FinalRestoreFailed", build: veleroadapter.NewFinalRestore}
	stageRestore = restoreKind{role: veleroadapter.StageRestore, refRole: roleStageRestore, backup: veleroadapter.StageBackup,
		warning: migv1.VeleroStageRestorePartiallyFailed, failure: "StageRestoreFailed", build: veleroadapter.NewStageRestore}
)

// adapterMigration describes the migration to the Velero adapter.
func (s *Scope) adapterMigration() veleroadapter.Migration {
	return veleroadapter.Migration{
		Name: s.Migration.Name, UID: string(s.Migration.UID),
		PlanName: s.Plan.Name, PlanUID: string(s.Plan.UID),
		Stage: s.Migration.Spec.Stage, QuiescePods: s.Migration.Spec.QuiescePods,
	}
}

// veleroKey is the name of the migration's Velero object with role.
func (s *Scope) veleroKey(role veleroadapter.Role) types.NamespacedName {
	return types.NamespacedName{Namespace: s.veleroNamespace(), Name: veleroadapter.Name(s.adapterMigration(), role)}
}

// ensureBackup returns the step that creates a Backup of the plan's namespaces on the source.
func ensureBackup(kind backupKind) RunFunc {
	return func(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
		key := s.veleroKey(kind.role)
		if s.record(migv1.MigrationReference{Role: kind.refRole, Cluster: onSource, Kind: "Backup", Namespace: key.Namespace, Name: key.Name}) {
			return requeueSoon()
		}
		opts := veleroadapter.BackupOptions{
			VeleroNamespace:   key.Namespace,
			StorageLocation:   s.Storage.Name,
			SnapshotLocation:  s.Storage.Name,
			Namespaces:        s.sourceNamespaces(),
			ExcludedResources: s.Settings.ExcludedResources,
			// disable_image_copy keeps the ImageStream objects (its documented promise): they
			// move with the backup, pointing at the source registry, when no DISM creates them.
			KeepImageStreams: s.Settings.DisableImageCopy && !s.Migration.Spec.MigrateState,
		}
		if !kind.stageLabels {
			resources, err := includedResources(s.Source.Client, s.Plan)
			if err != nil {
				return itinerary.Outcome{}, err
			}
			opts.IncludedResources, opts.LabelSelector = resources, s.Plan.Spec.LabelSelector
		}
		if err := s.Source.Client.Create(ctx, kind.build(s.adapterMigration(), opts)); err != nil && !apierrors.IsAlreadyExists(err) {
			return itinerary.Outcome{}, fmt.Errorf("create Backup %s on the source cluster: %w", key, err)
		}
		s.setProgress(fmt.Sprintf("Backup %s: created.", key))
		return itinerary.Done(), nil
	}
}

// backupCreated returns the step that waits for a Backup to finish.
func backupCreated(kind backupKind) RunFunc {
	return func(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
		key := s.veleroKey(kind.role)
		backup := &velerov1.Backup{}
		if err := s.Source.Client.Get(ctx, key, backup); err != nil {
			if apierrors.IsNotFound(err) {
				return itinerary.Failed(kind.failure, fmt.Sprintf("Backup %s was deleted from the source cluster before it completed.", key)), nil
			}
			return itinerary.Outcome{}, fmt.Errorf("get Backup %s on the source cluster: %w", key, err)
		}
		lines := veleroadapter.BackupProgress(backup, s.Now())
		if kind.stageLabels && s.Facts.IndirectVolume {
			pvbs := &velerov1.PodVolumeBackupList{}
			if err := s.Source.Client.List(ctx, pvbs, client.InNamespace(key.Namespace), veleroadapter.PodVolumeBackupsOf(key.Name)); err != nil {
				return itinerary.Outcome{}, fmt.Errorf("list the PodVolumeBackups of Backup %s on the source cluster: %w", key, err)
			}
			lines = append(lines, veleroadapter.PodVolumeBackupProgress(pvbs.Items)...)
		}
		s.setProgress(lines...)
		if p := backup.Status.Progress; p != nil {
			s.veleroItems("Backup", backup.Name, p.ItemsBackedUp, p.TotalItems)
		}
		waiting, state := fmt.Sprintf("Backup %s on the source cluster", key), backupState(backup)
		out := veleroadapter.BackupOutcome(backup)
		switch out.State {
		case veleroadapter.Completed:
			return itinerary.Done(), nil
		case veleroadapter.PartiallyFailed:
			details, ready, err := resultDetails(ctx, s.Source.Client, s.Settings.ProxyForRequest(), velerov1.DownloadTargetKindBackupResults, key, backup.Status.CompletionTimestamp, s.Now())
			if err != nil || !ready {
				return itinerary.Poll(pollVelero).Observed(waiting, state), err
			}
			s.warn(kind.warning, fmt.Sprintf("Backup %s partially failed (%s)%s", key, out.Message, details))
			return itinerary.Done(), nil
		case veleroadapter.Failed:
			return itinerary.Failed(kind.failure, fmt.Sprintf("Backup %s %s", key, out.Message)), nil
		}
		return itinerary.Poll(pollVelero).Observed(waiting, state), nil
	}
}

// backupReplicated returns the step that makes a Backup's record available on the
// destination. Velero copies records between clusters sharing a bucket only on a one-minute
// tick; Ferry copies the record itself, as Velero's sync would, and accepts the one Velero
// made if it came first.
func backupReplicated(kind backupKind) RunFunc {
	return func(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
		key := s.veleroKey(kind.role)
		if s.Destination.Cluster.UID == s.Source.Cluster.UID {
			return itinerary.Done(), nil
		}
		if err := veleroadapter.ReplicateBackup(ctx, s.Source.Client, s.Destination.Client, key.Namespace, key.Name); err != nil {
			return itinerary.Outcome{}.Observed(fmt.Sprintf("the record of Backup %s on the destination cluster", key), "not copied yet"), fmt.Errorf("make Backup %s available on the destination cluster: %w", key, err)
		}
		s.setProgress(fmt.Sprintf("Backup %s: available on the destination cluster.", key))
		return itinerary.Done(), nil
	}
}

// ensureRestore returns the step that creates a Restore on the destination.
func ensureRestore(kind restoreKind) RunFunc {
	return func(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
		key := s.veleroKey(kind.role)
		if s.record(migv1.MigrationReference{Role: kind.refRole, Cluster: onDestination, Kind: "Restore", Namespace: key.Namespace, Name: key.Name}) {
			return requeueSoon()
		}
		restore := kind.build(s.adapterMigration(), veleroadapter.RestoreOptions{
			VeleroNamespace:   key.Namespace,
			BackupName:        s.veleroKey(kind.backup).Name,
			NamespaceMapping:  mapping.Renamed(s.Plan),
			ExcludedResources: incompatibleResources(s.Plan),
		})
		modifiers, err := veleroadapter.NewRestoreModifiers(restore, s.claimTargets())
		if err != nil {
			return itinerary.Outcome{}, err
		}
		if modifiers != nil {
			// Before the Restore: Velero reads it when it validates the Restore.
			if err := s.Destination.Client.Create(ctx, modifiers); err != nil && !apierrors.IsAlreadyExists(err) {
				return itinerary.Outcome{}, fmt.Errorf("create the resource modifiers of Restore %s on the destination cluster: %w", key, err)
			}
			veleroadapter.UseModifiers(restore, modifiers)
		}
		if err := s.Destination.Client.Create(ctx, restore); err != nil && !apierrors.IsAlreadyExists(err) {
			return itinerary.Outcome{}, fmt.Errorf("create Restore %s on the destination cluster: %w", key, err)
		}
		s.setProgress(fmt.Sprintf("Restore %s: created.", key))
		return itinerary.Done(), nil
	}
}

// claimTargets are the storage class and access mode the plan selects for each claim copied
// through the replication repository: the restores give them to the restored claims. Claims
// the DVM copies are created by the DVM, with their selection, before the restore.
func (s *Scope) claimTargets() []veleroadapter.ClaimTarget {
	if !s.Facts.IndirectVolume {
		return nil
	}
	var out []veleroadapter.ClaimTarget
	for _, pv := range s.Plan.Spec.PersistentVolumes {
		if pv.Selection.Action != migv1.PvCopyAction {
			continue
		}
		src, _, err := mapping.Parse(pv.PVC.Name)
		if err != nil {
			continue
		}
		t := veleroadapter.ClaimTarget{Namespace: pv.PVC.Namespace, Name: src, StorageClass: pv.Selection.StorageClass}
		if mode := pv.Selection.AccessMode; mode != "" && mode != autoAccessMode {
			t.AccessModes = []corev1.PersistentVolumeAccessMode{mode}
		}
		out = append(out, t)
	}
	return out
}

// restoreCreated returns the step that waits for a Restore, then labels what it restored so
// that a rollback finds it (the openshift-velero-plugin's job in MTC).
func restoreCreated(kind restoreKind) RunFunc {
	return func(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
		key := s.veleroKey(kind.role)
		restore := &velerov1.Restore{}
		if err := s.Destination.Client.Get(ctx, key, restore); err != nil {
			if apierrors.IsNotFound(err) {
				return itinerary.Failed(kind.failure, fmt.Sprintf("Restore %s was deleted from the destination cluster before it completed.", key)), nil
			}
			return itinerary.Outcome{}, fmt.Errorf("get Restore %s on the destination cluster: %w", key, err)
		}
		lines := veleroadapter.RestoreProgress(restore, s.Now())
		if kind.role == veleroadapter.StageRestore && s.Facts.IndirectVolume {
			pvrs := &velerov1.PodVolumeRestoreList{}
			if err := s.Destination.Client.List(ctx, pvrs, client.InNamespace(key.Namespace), veleroadapter.PodVolumeRestoresOf(key.Name)); err != nil {
				return itinerary.Outcome{}, fmt.Errorf("list the PodVolumeRestores of Restore %s on the destination cluster: %w", key, err)
			}
			lines = append(lines, veleroadapter.PodVolumeRestoreProgress(pvrs.Items)...)
		}
		s.setProgress(lines...)
		if p := restore.Status.Progress; p != nil {
			s.veleroItems("Restore", restore.Name, p.ItemsRestored, p.TotalItems)
		}
		waiting, state := fmt.Sprintf("Restore %s on the destination cluster", key), restoreState(restore)
		out := veleroadapter.RestoreOutcome(restore)
		switch out.State {
		case veleroadapter.Running:
			return itinerary.Poll(pollVelero).Observed(waiting, state), nil
		case veleroadapter.Failed:
			return itinerary.Failed(kind.failure, fmt.Sprintf("Restore %s %s", key, out.Message)), nil
		case veleroadapter.PartiallyFailed:
			details, ready, err := resultDetails(ctx, s.Destination.Client, s.Settings.ProxyForRequest(), velerov1.DownloadTargetKindRestoreResults, key, restore.Status.CompletionTimestamp, s.Now())
			if err != nil || !ready {
				return itinerary.Poll(pollVelero).Observed(waiting, state), err
			}
			s.warn(kind.warning, fmt.Sprintf("Restore %s partially failed (%s)%s", key, out.Message, details))
		}
		if err := labelRestored(ctx, s, restore); err != nil {
			return itinerary.Outcome{}, err
		}
		return itinerary.Done(), nil
	}
}

// includedResources turns the plan's included group-kinds into Velero's resource names.
func includedResources(c client.Client, plan *migv1.MigPlan) ([]string, error) {
	var out []string
	for _, gk := range plan.Spec.IncludedResources {
		if gk == nil {
			continue
		}
		m, err := c.RESTMapper().RESTMapping(schema.GroupKind{Group: gk.Group, Kind: gk.Kind})
		if err != nil {
			return nil, fmt.Errorf("resource of included kind %s on the source cluster: %w", gk, err)
		}
		out = append(out, m.Resource.GroupResource().String())
	}
	return out, nil
}

// incompatibleResources lists the resources the destination cannot serve (plan status), as
// Velero's resource.group names.
func incompatibleResources(plan *migv1.MigPlan) []string {
	seen := map[string]bool{}
	var out []string
	for _, ns := range plan.Status.IncompatibleNamespaces {
		for _, gvk := range ns.GVKs {
			name := gvk.Kind
			if gvk.Group != "" {
				name += "." + gvk.Group
			}
			if name != "" && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out
}

// resultsWait bounds how long a partially failed Backup or Restore waits for Velero to hand
// out its results; past it, the warning gives the counts only.
const resultsWait = 30 * time.Second

// resultDetails fetches what failed in a partially failed Backup or Restore through a Velero
// DownloadRequest, without blocking: ready is false while Velero has not signed the URL yet.
// The text starts with ": " and lists the first errors and warnings. The file is downloaded
// through proxy, as every connection of the operator to an object store.
func resultDetails(ctx context.Context, c client.Client, proxy func(*http.Request) (*url.URL, error), kind velerov1.DownloadTargetKind, key types.NamespacedName, completed *metav1.Time, now time.Time) (string, bool, error) {
	if completed != nil && now.Sub(completed.Time) > resultsWait {
		return "", true, nil
	}
	d, err := veleroadapter.EnsureDownloadRequest(ctx, c, key.Namespace, kind, key.Name)
	if err != nil || d == nil {
		return "", false, err
	}
	d.Proxy = proxy
	lines, err := veleroadapter.Summary(ctx, *d, 5)
	if err != nil {
		lines = []string{"results unavailable: " + err.Error()}
	}
	if err := veleroadapter.DeleteDownloadRequest(ctx, c, key.Namespace, kind, key.Name); err != nil {
		return "", false, err
	}
	if len(lines) == 0 {
		return "", true, nil
	}
	return ": " + strings.Join(lines, "; "), true, nil
}
