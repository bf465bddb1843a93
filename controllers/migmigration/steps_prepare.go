package migmigration

import (
	"context"
	"fmt"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

const stageNoOpMessage = "Stage migration was run without any PVs or ImageStreams in source cluster. No Velero operations were initiated."

// started notes a stage migration that has nothing to copy.
func started(_ context.Context, s *Scope) (itinerary.Outcome, error) {
	if s.Facts.Stage && !s.Facts.HasPVs && !s.Facts.HasISs {
		s.warn(migv1.StageNoOp, stageNoOpMessage)
	}
	return itinerary.Done(), nil
}

// startRefresh asks the plan controller to discover the plan's PVs and validate it again.
func (r *Reconciler) startRefresh(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	if s.Plan.Spec.Refresh {
		return itinerary.Done(), nil
	}
	before := s.Plan.DeepCopy()
	s.Plan.Spec.Refresh = true
	if err := r.Client.Patch(ctx, s.Plan, client.MergeFrom(before)); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("ask MigPlan %s to refresh: %w", s.Plan.Name, err)
	}
	return itinerary.Done(), nil
}

// waitForRefresh waits until the plan controller has handled the refresh.
func (r *Reconciler) waitForRefresh(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	plan := &migv1.MigPlan{}
	if err := r.host().Get(ctx, client.ObjectKeyFromObject(s.Plan), plan); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("get MigPlan: %w", err)
	}
	if plan.Spec.Refresh || plan.Status.ObservedGeneration < plan.Generation {
		return itinerary.Poll(pollVelero), nil
	}
	*s.Plan = *plan
	return itinerary.Done(), nil
}

// cleanStaleVeleroCRs clears Velero work that earlier migrations of the plan left unfinished:
// a Backup or Restore Velero has not started is deleted; one in progress is waited for, since
// Velero cannot delete it and restarting Velero (MTC's way) would kill other work.
func cleanStaleVeleroCRs(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	ns := s.veleroNamespace()
	sel := veleroadapter.PlanSelector(string(s.Plan.UID))
	var waiting []string
	backups := &velerov1.BackupList{}
	if err := s.Source.Client.List(ctx, backups, client.InNamespace(ns), sel); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("list Backups on the source cluster: %w", err)
	}
	for i := range backups.Items {
		b := &backups.Items[i]
		if b.Labels[migratedByMigrationLabel] == string(s.Migration.UID) {
			continue
		}
		switch {
		case backupNotStarted(b):
			if err := client.IgnoreNotFound(s.Source.Client.Delete(ctx, b)); err != nil {
				return itinerary.Outcome{}, fmt.Errorf("delete stale Backup %s: %w", b.Name, err)
			}
		case veleroadapter.BackupOutcome(b).State == veleroadapter.Running:
			waiting = append(waiting, fmt.Sprintf("Waiting for Backup %s/%s of an earlier migration to finish.", ns, b.Name))
		}
	}
	restores := &velerov1.RestoreList{}
	if err := s.Destination.Client.List(ctx, restores, client.InNamespace(ns), sel); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("list Restores on the destination cluster: %w", err)
	}
	for i := range restores.Items {
		rs := &restores.Items[i]
		if rs.Labels[migratedByMigrationLabel] == string(s.Migration.UID) {
			continue
		}
		switch {
		case rs.Status.Phase == "" || rs.Status.Phase == velerov1.RestorePhaseNew:
			if err := client.IgnoreNotFound(s.Destination.Client.Delete(ctx, rs)); err != nil {
				return itinerary.Outcome{}, fmt.Errorf("delete stale Restore %s: %w", rs.Name, err)
			}
		case veleroadapter.RestoreOutcome(rs).State == veleroadapter.Running:
			waiting = append(waiting, fmt.Sprintf("Waiting for Restore %s/%s of an earlier migration to finish.", ns, rs.Name))
		}
	}
	if len(waiting) > 0 {
		s.setProgress(waiting...)
		return itinerary.Wait(pollSlow), nil
	}
	return itinerary.Done(), nil
}

// waitForVeleroReady waits until Velero on both clusters has validated the plan's backup
// storage location: Velero runs and can reach the replication repository. MTC restarted and
// watched Velero pods; Ferry asks Velero itself, which also works for a Velero that does not
// run as a pod of the cluster.
func waitForVeleroReady(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	var waiting []string
	for _, c := range s.clusters() {
		bsl := &velerov1.BackupStorageLocation{}
		key := types.NamespacedName{Namespace: s.veleroNamespace(), Name: s.Storage.Name}
		if err := c.remote.Client.Get(ctx, key, bsl); err != nil {
			if apierrors.IsNotFound(err) {
				waiting = append(waiting, fmt.Sprintf("BackupStorageLocation %s on the %s cluster does not exist yet.", key, c.role))
				continue
			}
			return itinerary.Outcome{}, fmt.Errorf("get BackupStorageLocation %s on the %s cluster: %w", key, c.role, err)
		}
		if bsl.Status.Phase != velerov1.BackupStorageLocationPhaseAvailable {
			msg := fmt.Sprintf("BackupStorageLocation %s on the %s cluster is %q", key, c.role, bsl.Status.Phase)
			if bsl.Status.Message != "" {
				msg += ": " + bsl.Status.Message
			}
			waiting = append(waiting, msg+". Is Velero running there?")
		}
	}
	if len(waiting) > 0 {
		s.setProgress(waiting...)
		return itinerary.Poll(pollVelero), nil
	}
	s.setProgress()
	return itinerary.Done(), nil
}

// ensureCloudSecretPropagated checks that the storage location Velero uses on each cluster
// reads the credentials Secret the plan keeps up to date (MTC compared files inside the
// Velero pods through exec, which Ferry never does).
func ensureCloudSecretPropagated(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	for _, c := range s.clusters() {
		bsl := &velerov1.BackupStorageLocation{}
		key := types.NamespacedName{Namespace: s.veleroNamespace(), Name: s.Storage.Name}
		if err := c.remote.Client.Get(ctx, key, bsl); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("get BackupStorageLocation %s on the %s cluster: %w", key, c.role, err)
		}
		ref := bsl.Spec.Credential
		if ref == nil {
			continue // Velero's own default credentials.
		}
		secret := &metav1.PartialObjectMetadata{}
		secret.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
		if err := c.remote.Client.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: ref.Name}, secret); err != nil {
			if apierrors.IsNotFound(err) {
				s.setProgress(fmt.Sprintf("Waiting for credentials Secret %s/%s on the %s cluster.", key.Namespace, ref.Name, c.role))
				return itinerary.Poll(pollVelero), nil
			}
			return itinerary.Outcome{}, fmt.Errorf("get credentials Secret on the %s cluster: %w", c.role, err)
		}
	}
	return itinerary.Done(), nil
}

// namedRemote is a cluster with its role in the migration.
type namedRemote struct {
	role   string
	remote Remote
}

// clusters returns the source and, when it is another cluster, the destination.
func (s *Scope) clusters() []namedRemote {
	out := []namedRemote{{onSource, s.Source}}
	if s.Destination.Cluster.UID != s.Source.Cluster.UID {
		out = append(out, namedRemote{onDestination, s.Destination})
	}
	return out
}
