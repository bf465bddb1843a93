package migmigration

import (
	"context"
	"errors"
	"fmt"
	"slices"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/stagepod"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

// MTC's annotation on the PVs and PVCs of a stage backup (the openshift-velero-plugin's
// contract) and Ferry's record of a PV's reclaim policy before a move.
const (
	migrateTypeAnnotation = "openshift.io/migrate-type"
	origReclaimAnnotation = "migration.openshift.io/orig-reclaim-policy"
	stageLabel            = veleroadapter.IncludedInStageBackupLabel
)

// annotateResources marks what the stage backup takes: the claims of the plan's moved PVs and
// of its indirectly copied PVs, their PVs, the service accounts of the stage pods and the
// plan's namespaces get MTC's stage label (the stage pods have it from birth). A moved PV's
// reclaim policy becomes Retain (recorded in an annotation), since the same storage is about
// to be used by another cluster and must outlive the source claim.
func annotateResources(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	c := s.Source.Client
	uid := string(s.Migration.UID)
	count := 0
	for _, pv := range s.Plan.Spec.PersistentVolumes {
		move := pv.Selection.Action == migv1.PvMoveAction
		indirect := s.Facts.IndirectVolume && pv.Selection.Action == migv1.PvCopyAction && directCopy(pv.Selection.CopyMethod)
		if !move && !indirect {
			continue
		}
		src, _, err := mapping.Parse(pv.PVC.Name)
		if err != nil {
			continue
		}
		claim := &corev1.PersistentVolumeClaim{}
		if err := mark(ctx, c, types.NamespacedName{Namespace: pv.PVC.Namespace, Name: src}, claim, uid, pv.Selection.Action, nil); err != nil {
			return itinerary.Outcome{}, err
		}
		volume := &corev1.PersistentVolume{}
		retain := func() {
			if move && volume.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
				volume.Annotations[origReclaimAnnotation] = string(volume.Spec.PersistentVolumeReclaimPolicy)
				volume.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
			}
		}
		if err := mark(ctx, c, types.NamespacedName{Name: pv.Name}, volume, uid, pv.Selection.Action, retain); err != nil {
			return itinerary.Outcome{}, err
		}
		count++
	}
	if s.Facts.IndirectVolume {
		if err := excludeApplicationPods(ctx, s); err != nil {
			return itinerary.Outcome{}, err
		}
	}
	accounts := 0
	for _, ns := range s.sourceNamespaces() {
		if err := mark(ctx, c, types.NamespacedName{Name: ns}, &corev1.Namespace{}, uid, "", nil); err != nil {
			return itinerary.Outcome{}, err
		}
		pods, err := stagePods(ctx, c, ns, client.MatchingLabels{stagepod.MigrationLabel: uid})
		if err != nil {
			return itinerary.Outcome{}, err
		}
		seen := map[string]bool{}
		for _, p := range pods {
			sa := p.Spec.ServiceAccountName
			if sa == "" {
				sa = "default"
			}
			if seen[sa] {
				continue
			}
			seen[sa] = true
			if err := mark(ctx, c, types.NamespacedName{Namespace: ns, Name: sa}, &corev1.ServiceAccount{}, uid, "", nil); err != nil {
				return itinerary.Outcome{}, err
			}
			accounts++
		}
	}
	s.setProgress(fmt.Sprintf("%d volumes and their claims, and %d service accounts of stage pods, labelled for the stage backup.", count, accounts))
	return itinerary.Done(), nil
}

// excludedAnnotation marks the application pods Ferry labelled velero.io/exclude-from-backup
// for a stage backup (value: the migration's UID), so that cleanup removes only its own label.
const excludedAnnotation = "migration.openshift.io/excluded-from-stage-backup"

// excludeApplicationPods keeps the running pods that mount the stage pods' claims out of the
// stage backup. Velero backs up, with a claim, every pod that mounts it (its item blocks),
// whatever the Backup's label selector; a restored application pod would start the
// application on the destination in the middle of a stage. Velero skips any item labelled
// velero.io/exclude-from-backup=true, related items too.
func excludeApplicationPods(ctx context.Context, s *Scope) error {
	c, uid := s.Source.Client, string(s.Migration.UID)
	for ns, claims := range indirectClaims(s.Plan) {
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("list pods of %s on the source cluster: %w", ns, err)
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			_, excluded := p.Labels[velerov1.ExcludeFromBackupLabel]
			if excluded || p.Labels[stagepod.StagePodLabel] == "true" || !mountsAny(&p.Spec, claims) {
				continue
			}
			before := p.DeepCopy()
			p.Labels, p.Annotations = orEmpty(p.Labels), orEmpty(p.Annotations)
			p.Labels[velerov1.ExcludeFromBackupLabel] = "true"
			p.Annotations[excludedAnnotation] = uid
			if err := c.Patch(ctx, p, client.MergeFrom(before)); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("keep pod %s/%s out of the stage backup: %w", ns, p.Name, err)
			}
		}
	}
	return nil
}

// includeApplicationPods removes what excludeApplicationPods added.
func includeApplicationPods(ctx context.Context, c client.Client, ns string) error {
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(ns), client.HasLabels{velerov1.ExcludeFromBackupLabel}); err != nil {
		return fmt.Errorf("list pods of %s on the source cluster: %w", ns, err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if _, ours := p.Annotations[excludedAnnotation]; !ours {
			continue
		}
		before := p.DeepCopy()
		delete(p.Labels, velerov1.ExcludeFromBackupLabel)
		delete(p.Annotations, excludedAnnotation)
		if err := c.Patch(ctx, p, client.MergeFrom(before)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("remove the stage backup's exclusion from pod %s/%s: %w", ns, p.Name, err)
		}
	}
	return nil
}

func mountsAny(spec *corev1.PodSpec, claims []string) bool {
	for _, claim := range stagepod.Claims(spec) {
		if slices.Contains(claims, claim) {
			return true
		}
	}
	return false
}

// mark adds the stage label (and, with migrateType, MTC's migrate-type annotation for the
// openshift-velero-plugin) to an object, then applies change, with one merge patch.
func mark(ctx context.Context, c client.Client, key types.NamespacedName, obj client.Object, uid, migrateType string, change func()) error {
	if err := c.Get(ctx, key, obj); err != nil {
		return fmt.Errorf("get %T %s on the source cluster: %w", obj, key, err)
	}
	before := obj.DeepCopyObject().(client.Object)
	labels, annotations := orEmpty(obj.GetLabels()), orEmpty(obj.GetAnnotations())
	labels[stageLabel] = uid
	if migrateType != "" {
		annotations[migrateTypeAnnotation] = migrateType
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
		if err := includeApplicationPods(ctx, c, ns); err != nil {
			return itinerary.Outcome{}, err
		}
		accounts := &corev1.ServiceAccountList{}
		if err := c.List(ctx, accounts, client.InNamespace(ns), client.HasLabels{stageLabel}); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("list the service accounts of %s on the source cluster: %w", ns, err)
		}
		for _, sa := range accounts.Items {
			add(types.NamespacedName{Namespace: ns, Name: sa.Name}, &corev1.ServiceAccount{})
		}
	}
	for _, t := range targets {
		if err := unmark(ctx, c, onSource, t.key, t.obj); err != nil {
			return itinerary.Outcome{}, err
		}
	}
	if err := unmarkRestored(ctx, s); err != nil {
		return itinerary.Outcome{}, err
	}
	return itinerary.Done(), nil
}

// unmarkRestored removes the stage label and migrate-type annotation from what a stage
// restore brought to the destination with them (namespaces, claims, service accounts), as
// MTC's cleanup did on both clusters.
func unmarkRestored(ctx context.Context, s *Scope) error {
	c := s.Destination.Client
	for _, ns := range s.destinationNamespaces() {
		if err := unmark(ctx, c, onDestination, types.NamespacedName{Name: ns}, &corev1.Namespace{}); err != nil {
			return err
		}
		for _, list := range []client.ObjectList{&corev1.PersistentVolumeClaimList{}, &corev1.ServiceAccountList{}} {
			if err := c.List(ctx, list, client.InNamespace(ns), client.HasLabels{stageLabel}); err != nil {
				return fmt.Errorf("list %T of %s on the destination cluster: %w", list, ns, err)
			}
			var err error
			switch l := list.(type) {
			case *corev1.PersistentVolumeClaimList:
				for i := range l.Items {
					err = errors.Join(err, unmark(ctx, c, onDestination, client.ObjectKeyFromObject(&l.Items[i]), &corev1.PersistentVolumeClaim{}))
				}
			case *corev1.ServiceAccountList:
				for i := range l.Items {
					err = errors.Join(err, unmark(ctx, c, onDestination, client.ObjectKeyFromObject(&l.Items[i]), &corev1.ServiceAccount{}))
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// unmark removes the stage label and move annotation from one object, if it has them.
func unmark(ctx context.Context, c client.Client, side string, key types.NamespacedName, obj client.Object) error {
	if err := c.Get(ctx, key, obj); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("get %T %s on the %s cluster: %w", obj, key, side, err))
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
		return client.IgnoreNotFound(fmt.Errorf("remove stage marks from %T %s on the %s cluster: %w", obj, key, side, err))
	}
	return nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
