package migmigration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

// MTC's annotations on the PVs and PVCs of a stage backup (the openshift-velero-plugin's
// contract) and Ferry's record of a PV's reclaim policy before a move.
const (
	migrateTypeAnnotation = "openshift.io/migrate-type"
	origReclaimAnnotation = "migration.openshift.io/orig-reclaim-policy"
	stageLabel            = veleroadapter.IncludedInStageBackupLabel
	migrateTypeMove       = migv1.PvMoveAction
)

// annotateResources marks what the stage backup takes: the claims of the plan's moved PVs,
// their PVs and the plan's namespaces get MTC's stage label; the PVs' reclaim policy becomes
// Retain (recorded in an annotation), since the same storage is about to be used by another
// cluster and must outlive the source claim.
func annotateResources(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	c := s.Source.Client
	uid := string(s.Migration.UID)
	count := 0
	for _, pv := range s.Plan.Spec.PersistentVolumes {
		if pv.Selection.Action != migv1.PvMoveAction {
			continue
		}
		src, _, err := mapping.Parse(pv.PVC.Name)
		if err != nil {
			continue
		}
		claim := &corev1.PersistentVolumeClaim{}
		if err := mark(ctx, c, types.NamespacedName{Namespace: pv.PVC.Namespace, Name: src}, claim, uid, nil); err != nil {
			return itinerary.Outcome{}, err
		}
		volume := &corev1.PersistentVolume{}
		retain := func() {
			if volume.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
				volume.Annotations[origReclaimAnnotation] = string(volume.Spec.PersistentVolumeReclaimPolicy)
				volume.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
			}
		}
		if err := mark(ctx, c, types.NamespacedName{Name: pv.Name}, volume, uid, retain); err != nil {
			return itinerary.Outcome{}, err
		}
		count++
	}
	for _, ns := range s.sourceNamespaces() {
		if err := mark(ctx, c, types.NamespacedName{Name: ns}, &corev1.Namespace{}, uid, nil); err != nil {
			return itinerary.Outcome{}, err
		}
	}
	s.setProgress(fmt.Sprintf("%d moved volumes and their claims labelled for the stage backup.", count))
	return itinerary.Done(), nil
}

// mark adds the stage label (and, on PVs and PVCs, the move annotation) to an object, then
// applies change, with one merge patch.
func mark(ctx context.Context, c client.Client, key types.NamespacedName, obj client.Object, uid string, change func()) error {
	if err := c.Get(ctx, key, obj); err != nil {
		return fmt.Errorf("get %T %s on the source cluster: %w", obj, key, err)
	}
	before := obj.DeepCopyObject().(client.Object)
	labels, annotations := orEmpty(obj.GetLabels()), orEmpty(obj.GetAnnotations())
	labels[stageLabel] = uid
	if _, ok := obj.(*corev1.Namespace); !ok {
		annotations[migrateTypeAnnotation] = migrateTypeMove
	}
	obj.SetLabels(labels)
	obj.SetAnnotations(annotations)
	if change != nil {
		change()
	}
	if err := c.Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("label %T %s for the stage backup: %w", obj, key, err)
	}
	return nil
}

// removeStageMarks removes the stage label and the move annotation from the plan's claims,
// PVs and namespaces on the source (CleanStaleAnnotations, EnsureAnnotationsDeleted), unless
// the migration keeps them. The reclaim policy of a moved PV stays Retain: the destination
// uses its storage now.
func removeStageMarks(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	if s.Migration.Spec.KeepAnnotations {
		return itinerary.Done(), nil
	}
	c := s.Source.Client
	var targets []struct {
		key types.NamespacedName
		obj client.Object
	}
	add := func(key types.NamespacedName, obj client.Object) {
		targets = append(targets, struct {
			key types.NamespacedName
			obj client.Object
		}{key, obj})
	}
	for _, pv := range s.Plan.Spec.PersistentVolumes {
		if src, _, err := mapping.Parse(pv.PVC.Name); err == nil {
			add(types.NamespacedName{Namespace: pv.PVC.Namespace, Name: src}, &corev1.PersistentVolumeClaim{})
		}
		add(types.NamespacedName{Name: pv.Name}, &corev1.PersistentVolume{})
	}
	for _, ns := range s.sourceNamespaces() {
		add(types.NamespacedName{Name: ns}, &corev1.Namespace{})
	}
	for _, t := range targets {
		if err := unmark(ctx, c, t.key, t.obj); err != nil {
			return itinerary.Outcome{}, err
		}
	}
	return itinerary.Done(), nil
}

// unmark removes the stage label and move annotation from one object, if it has them.
func unmark(ctx context.Context, c client.Client, key types.NamespacedName, obj client.Object) error {
	if err := c.Get(ctx, key, obj); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("get %T %s on the source cluster: %w", obj, key, err))
	}
	_, labelled := obj.GetLabels()[stageLabel]
	_, annotated := obj.GetAnnotations()[migrateTypeAnnotation]
	if !labelled && !annotated {
		return nil
	}
	before := obj.DeepCopyObject().(client.Object)
	labels, annotations := obj.GetLabels(), obj.GetAnnotations()
	delete(labels, stageLabel)
	delete(annotations, migrateTypeAnnotation)
	obj.SetLabels(labels)
	obj.SetAnnotations(annotations)
	if err := c.Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("remove stage marks from %T %s: %w", obj, key, err))
	}
	return nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
