package migmigration

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

const (
	roleDirectVolumeMigration = "DirectVolumeMigration"
	// directVolumeLabel marks the DVM a migration created (MTC's label).
	directVolumeLabel = migv1.DirectVolumeMigrationLabel
	// dvmPhaseCompleted is the DVM's final phase.
	dvmPhaseCompleted = "Completed"
)

// dvmKey is the name of the migration's DirectVolumeMigration on the host.
func (s *Scope) dvmKey() types.NamespacedName {
	return types.NamespacedName{Namespace: s.Migration.Namespace, Name: veleroadapter.Name(s.adapterMigration(), "dvm")}
}

// createDirectVolumeMigration creates the DVM that copies the plan's PVs with rsync: Stage
// while the applications run, CutOver once they are quiesced.
func (r *Reconciler) createDirectVolumeMigration(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	key := s.dvmKey()
	if s.record(migv1.MigrationReference{Role: roleDirectVolumeMigration, Cluster: onHost, Kind: "DirectVolumeMigration", Namespace: key.Namespace, Name: key.Name}) {
		return requeueSoon()
	}
	dvm := s.newDirectVolumeMigration(key)
	if err := controllerutil.SetControllerReference(s.Migration, dvm, r.Client.Scheme()); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("own DirectVolumeMigration: %w", err)
	}
	if err := r.host().Create(ctx, dvm); err != nil && !apierrors.IsAlreadyExists(err) {
		return itinerary.Outcome{}, fmt.Errorf("create DirectVolumeMigration %s: %w", key, err)
	}
	return itinerary.Done(), nil
}

// autoAccessMode is the plan's "auto" access mode selection (see migplan's PV selection).
const autoAccessMode corev1.PersistentVolumeAccessMode = "auto"

// newDirectVolumeMigration builds the DVM of the plan's PVs copied with rsync (MTC's spec).
func (s *Scope) newDirectVolumeMigration(key types.NamespacedName) *migv1.DirectVolumeMigration {
	byName, _ := mapping.Namespaces(s.Plan)
	var pvcs []migv1.PVCToMigrate
	for _, pv := range s.Plan.Spec.PersistentVolumes {
		if pv.Selection.Action != migv1.PvCopyAction || !directCopy(pv.Selection.CopyMethod) {
			continue
		}
		src, dest, err := mapping.Parse(pv.PVC.Name)
		if err != nil {
			continue
		}
		// "auto" (MTC's "let the destination decide") keeps the source's modes: it is no
		// Kubernetes access mode, and a PVC naming it is invalid.
		modes := pv.PVC.AccessModes
		if mode := pv.Selection.AccessMode; mode != "" && mode != autoAccessMode {
			modes = []corev1.PersistentVolumeAccessMode{mode}
		}
		var volumeMode *corev1.PersistentVolumeMode
		if pv.PVC.VolumeMode != "" {
			vm := pv.PVC.VolumeMode
			volumeMode = &vm
		}
		pvcs = append(pvcs, migv1.PVCToMigrate{
			ObjectReference:    &corev1.ObjectReference{Namespace: pv.PVC.Namespace, Name: src},
			TargetStorageClass: pv.Selection.StorageClass,
			TargetAccessModes:  modes,
			TargetVolumeMode:   volumeMode,
			TargetNamespace:    byName[pv.PVC.Namespace],
			TargetName:         dest,
			Verify:             pv.Selection.Verify,
		})
	}
	kind := migv1.MigrationTypeStage
	if s.Migration.Spec.QuiescePods {
		kind = migv1.MigrationTypeFinal
	}
	labels := veleroadapter.MigrationSelector(string(s.Migration.UID))
	labels[directVolumeLabel] = string(s.Migration.UID)
	// The DVM puts the plan's label on the PVCs it creates, so that a rollback deletes them.
	labels[migratedByPlanLabel] = string(s.Plan.UID)
	var annotations map[string]string
	if reuseExistingPVCs(s.Plan, s.Migration) {
		// Copying into destination PVCs no migration of the plan created is the user's explicit choice.
		annotations = map[string]string{migv1.ReuseExistingDestinationPVCsAnnotation: "true"}
	}
	return &migv1.DirectVolumeMigration{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: labels, Annotations: annotations},
		Spec: migv1.DirectVolumeMigrationSpec{
			SrcMigClusterRef:            s.Plan.Spec.SrcMigClusterRef,
			DestMigClusterRef:           s.Plan.Spec.DestMigClusterRef,
			PersistentVolumeClaims:      pvcs,
			CreateDestinationNamespaces: true,
			LiveMigrate:                 s.Plan.Spec.LiveMigrate,
			MigrationType:               &kind,
			RunAsRoot:                   s.Migration.Spec.RunAsRoot,
			RunAsUser:                   s.Migration.Spec.RunAsUser,
			RunAsGroup:                  s.Migration.Spec.RunAsGroup,
		},
	}
}

// reuseExistingPVCs says whether the plan or the migration opts in to copying into destination
// PVCs that exist although no migration of the plan created them.
func reuseExistingPVCs(plan *migv1.MigPlan, m *migv1.MigMigration) bool {
	return plan.Annotations[migv1.ReuseExistingDestinationPVCsAnnotation] == "true" ||
		m.Annotations[migv1.ReuseExistingDestinationPVCsAnnotation] == "true"
}

// dvmWarnings are the DVM warnings about the copied data that the migration repeats, durably:
// a user reads the migration, and a copy that lost owners must not look like a plain success.
var dvmWarnings = []string{migv1.RsyncServerPodsRunningAsNonRoot}

// waitForDirectVolumeMigration follows the DVM until it completes; a DVM failure is a
// warning unless the DVM says it is critical (MTC's rule).
func (r *Reconciler) waitForDirectVolumeMigration(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	key := s.dvmKey()
	dvm := &migv1.DirectVolumeMigration{}
	if err := r.host().Get(ctx, key, dvm); err != nil {
		if apierrors.IsNotFound(err) {
			// The DVM is created by an earlier phase of the same migration, so it is gone only
			// if someone deleted it: its volumes may not have been copied.
			return itinerary.Failed("DirectVolumeMigrationFailed", fmt.Sprintf("DirectVolumeMigration %s was deleted before it completed.", key)), nil
		}
		return itinerary.Outcome{}, fmt.Errorf("get DirectVolumeMigration %s: %w", key, err)
	}
	lines, out := s.judgeDirectVolumeMigration(key, dvm)
	s.setProgress(lines...)
	return out, nil
}

// judgeDirectVolumeMigration returns the progress lines of a DVM (MTC's) and how the phase
// that waits for it stands: done once it completed, failed when it failed critically, else
// waiting (watched). It records the DVM's description and its warnings on the migration.
func (s *Scope) judgeDirectVolumeMigration(key types.NamespacedName, dvm *migv1.DirectVolumeMigration) ([]string, itinerary.Outcome) {
	st := dvm.Status
	lines := []string{fmt.Sprintf("%d total volumes; %d successful; %d running; %d failed",
		len(dvm.Spec.PersistentVolumeClaims), len(st.SuccessfulPods), len(st.RunningPods), len(st.FailedPods))}
	for _, group := range []struct {
		state string
		pods  []*migv1.PodProgress
	}{{"Running", st.RunningPods}, {"Pending", st.PendingPods}, {"Completed", st.SuccessfulPods}, {"Failed", st.FailedPods}} {
		for _, p := range group.pods {
			lines = append(lines, podLine(group.state, p))
		}
	}
	s.setDetail(st.PhaseDescription)
	for _, t := range dvmWarnings {
		if c := conditions.Find(st.Conditions, t); c != nil && c.Category == migv1.CategoryWarn {
			s.warn(t, c.Message)
		}
	}
	failed := conditions.Find(st.Conditions, migv1.Failed)
	switch {
	case failed != nil && failed.Category == migv1.CategoryCritical:
		// The DVM's own errors say which volume failed and why; its condition only points at them.
		why := failed.Message
		if len(st.Errors) > 0 {
			why = strings.Join(st.Errors, "; ")
		}
		return lines, itinerary.Failed("DirectVolumeMigrationFailed", fmt.Sprintf("DVM %s failed: %s", key.Name, why))
	case failed != nil || len(st.Errors) > 0 && st.Phase == dvmPhaseCompleted:
		s.warn(migv1.DirectVolumeMigrationFailed, fmt.Sprintf("DirectVolumeMigration (dvm): %s failed. See in dvm status.Errors", key))
		return lines, itinerary.Done()
	case st.Phase == dvmPhaseCompleted:
		return lines, itinerary.Done()
	}
	if blocked := dvmBlocked(dvm); len(blocked) > 0 {
		s.notice(migv1.DirectVolumeMigrationBlocked, fmt.Sprintf("DirectVolumeMigration %s is not moving: %s", key, strings.Join(blocked, " ")))
	}
	return lines, itinerary.Wait(pollSlow).Observed(fmt.Sprintf("DirectVolumeMigration %s", key), dvmState(dvm))
}

// deleteDirectVolumeMigrations deletes the migration's DVMs; their finalizers clean up what
// they created on the clusters.
func (r *Reconciler) deleteDirectVolumeMigrations(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	return r.deleteChildren(ctx, s, &migv1.DirectVolumeMigrationList{}, directVolumeLabel)
}

// deleteChildren deletes the host objects of list's kind that carry label with the
// migration's UID (its DVMs, its DIMs), in the foreground, and waits until they are gone.
func (r *Reconciler) deleteChildren(ctx context.Context, s *Scope, list client.ObjectList, label string) (itinerary.Outcome, error) {
	if err := r.host().List(ctx, list, client.InNamespace(s.Migration.Namespace), client.MatchingLabels{label: string(s.Migration.UID)}); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("list %T: %w", list, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	for _, item := range items {
		obj, ok := item.(client.Object)
		if !ok {
			return itinerary.Outcome{}, fmt.Errorf("unexpected list item %T", item)
		}
		if err := client.IgnoreNotFound(r.host().Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationForeground))); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("delete %T %s: %w", obj, obj.GetName(), err)
		}
	}
	if len(items) > 0 {
		return itinerary.Poll(pollWorkload), nil
	}
	return itinerary.Done(), nil
}

// podLine is MTC's progress line of one volume transfer: "[pvc] ns/pod: State 45% (rate) (elapsed)".
func podLine(state string, p *migv1.PodProgress) string {
	pvc, pod := "", ""
	if p.PVCReference != nil {
		pvc = p.PVCReference.Name
	}
	if p.ObjectReference != nil {
		pod = p.Namespace + "/" + p.Name
	}
	line := fmt.Sprintf("[%s] %s: %s", pvc, pod, state)
	if p.LastObservedProgressPercent != "" {
		line += " " + p.LastObservedProgressPercent
	}
	if p.LastObservedTransferRate != "" {
		line += " (Transfer rate " + p.LastObservedTransferRate + ")"
	}
	if p.TotalElapsedTime != nil {
		line += " (" + p.TotalElapsedTime.Round(time.Second).String() + ")"
	}
	return line
}
