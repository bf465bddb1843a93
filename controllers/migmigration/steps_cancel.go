package migmigration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/label"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

const (
	cancelingMessage = "The migration is being canceled."
	canceledMessage  = "The migration has been canceled."
)

// canceling marks the migration as being canceled, saying why when nobody asked for it.
func canceling(_ context.Context, s *Scope) (itinerary.Outcome, error) {
	msg := cancelingMessage
	if s.cancelCause != "" && !s.Migration.Spec.Canceled {
		msg = fmt.Sprintf("The migration is being canceled: %s.", s.cancelCause)
	}
	c := conditions.Advisory(migv1.Canceling, migv1.Cancel, msg)
	c.Durable = true
	conditions.Set(s.Migration, c, nowMeta(s.Now))
	return itinerary.Done(), nil
}

// canceled replaces Canceling with Canceled.
func canceled(_ context.Context, s *Scope) (itinerary.Outcome, error) {
	conditions.Delete(s.Migration, migv1.Canceling)
	c := conditions.Advisory(migv1.Canceled, migv1.Cancel, canceledMessage)
	c.Durable = true
	conditions.Set(s.Migration, c, nowMeta(s.Now))
	return itinerary.Done(), nil
}

// veleroSelector selects the Velero objects to delete: the migration's own when it is
// canceled (earlier migrations' backups stay usable), every one of the plan's on rollback.
func (s *Scope) veleroSelector() client.MatchingLabels {
	if s.Facts.Rollback {
		return veleroadapter.PlanSelector(string(s.Plan.UID))
	}
	return veleroadapter.MigrationSelector(string(s.Migration.UID))
}

// deleteBackups deletes the Backups (data and records) on the source, and their copies on the
// destination. Velero cannot delete a Backup in progress: it is waited for.
func deleteBackups(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	ns := s.veleroNamespace()
	backups := &velerov1.BackupList{}
	if err := s.Source.Client.List(ctx, backups, client.InNamespace(ns), s.veleroSelector()); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("list Backups on the source cluster: %w", err)
	}
	var waiting []string
	for i := range backups.Items {
		b := &backups.Items[i]
		switch veleroadapter.BackupOutcome(b).State {
		case veleroadapter.Running:
			if backupNotStarted(b) {
				// Velero has not taken it from its queue: the record is all there is.
				if err := client.IgnoreNotFound(s.Source.Client.Delete(ctx, b)); err != nil {
					return itinerary.Outcome{}, fmt.Errorf("delete Backup %s: %w", b.Name, err)
				}
				continue
			}
			waiting = append(waiting, fmt.Sprintf("Backup %s/%s: waiting for Velero to finish it before deleting it.", ns, b.Name))
		default:
			if err := requestDeletion(ctx, s, b.Name); err != nil {
				return itinerary.Outcome{}, err
			}
			waiting = append(waiting, fmt.Sprintf("Backup %s/%s: being deleted by Velero.", ns, b.Name))
		}
	}
	if s.Destination.Cluster.UID != s.Source.Cluster.UID {
		copies := &velerov1.BackupList{}
		if err := s.Destination.Client.List(ctx, copies, client.InNamespace(ns), s.veleroSelector()); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("list Backups on the destination cluster: %w", err)
		}
		for i := range copies.Items {
			if err := client.IgnoreNotFound(s.Destination.Client.Delete(ctx, &copies.Items[i])); err != nil {
				return itinerary.Outcome{}, fmt.Errorf("delete the copy of Backup %s on the destination cluster: %w", copies.Items[i].Name, err)
			}
		}
	}
	if len(waiting) > 0 {
		s.setProgress(waiting...)
		return itinerary.Poll(pollVelero), nil
	}
	if err := s.Source.Client.DeleteAllOf(ctx, &velerov1.DeleteBackupRequest{}, client.InNamespace(ns), s.veleroSelector()); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("delete processed DeleteBackupRequests: %w", err)
	}
	s.setProgress("No Backups left.")
	return itinerary.Done(), nil
}

// requestDeletion asks Velero to delete a finished Backup, its data included, unless a
// request of this migration is pending already. The request carries the migration's labels
// so that it is removed once the Backup is gone.
func requestDeletion(ctx context.Context, s *Scope, backup string) error {
	ns := s.veleroNamespace()
	pending := &velerov1.DeleteBackupRequestList{}
	sel := client.MatchingLabels{velerov1.BackupNameLabel: label.GetValidName(backup)}
	if err := s.Source.Client.List(ctx, pending, client.InNamespace(ns), sel); err != nil {
		return fmt.Errorf("list DeleteBackupRequests of Backup %s: %w", backup, err)
	}
	for _, r := range pending.Items {
		if r.Status.Phase != velerov1.DeleteBackupRequestPhaseProcessed {
			return nil
		}
	}
	req := veleroadapter.NewDeleteBackupRequest(ns, backup)
	for k, v := range s.veleroSelector() {
		req.Labels[k] = v
	}
	if err := s.Source.Client.Create(ctx, req); err != nil {
		return fmt.Errorf("request deletion of Backup %s: %w", backup, err)
	}
	return nil
}

// deleteRestores deletes the Restores on the destination (not what they restored: that is a
// rollback's job) and waits until they are gone.
func deleteRestores(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	ns := s.veleroNamespace()
	restores := &velerov1.RestoreList{}
	if err := s.Destination.Client.List(ctx, restores, client.InNamespace(ns), s.veleroSelector()); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("list Restores on the destination cluster: %w", err)
	}
	var waiting []string
	for i := range restores.Items {
		rs := &restores.Items[i]
		if veleroadapter.RestoreOutcome(rs).State == veleroadapter.Running && rs.Status.Phase != "" && rs.Status.Phase != velerov1.RestorePhaseNew {
			waiting = append(waiting, fmt.Sprintf("Restore %s/%s: waiting for Velero to finish it before deleting it.", ns, rs.Name))
			continue
		}
		if err := client.IgnoreNotFound(s.Destination.Client.Delete(ctx, rs)); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("delete Restore %s: %w", rs.Name, err)
		}
		waiting = append(waiting, fmt.Sprintf("Restore %s/%s: being deleted.", ns, rs.Name))
	}
	if len(waiting) > 0 {
		s.setProgress(waiting...)
		return itinerary.Poll(pollVelero), nil
	}
	// The Restores' resource modifiers (see ensureRestore) carry their labels.
	if err := s.Destination.Client.DeleteAllOf(ctx, &corev1.ConfigMap{}, client.InNamespace(ns), s.veleroSelector()); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("delete the Restores' resource modifiers on the destination cluster: %w", err)
	}
	s.setProgress("No Restores left.")
	return itinerary.Done(), nil
}

// backupNotStarted says whether Velero has not yet taken the Backup from its queue, so that
// deleting the record leaves nothing behind. From ReadyToStart on, Velero may be writing to
// the bucket: such a Backup must finish before Velero can delete it.
func backupNotStarted(b *velerov1.Backup) bool {
	switch b.Status.Phase {
	case "", velerov1.BackupPhaseNew, velerov1.BackupPhaseQueued:
		return true
	}
	return false
}
