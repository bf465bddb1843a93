package claimswap

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Annotations of the temporary StatefulSet that carries a renamed set while the original is
// recreated (MTC's names).
const (
	// TemporaryAnnotation names the StatefulSet the temporary one stands in for.
	TemporaryAnnotation = "migration.openshift.io/statefulset-temporary"
	// ReplicasAnnotation keeps the original's replicas: the temporary one runs none.
	ReplicasAnnotation = "migration.openshift.io/statefulset-update"
	// temporarySuffix ends the temporary StatefulSet's name.
	temporarySuffix = "-new"
	// maxSetName is the longest set name that can be recreated: its temporary set's
	// controller-revision-hash label value ("<name>-new-<hash>") must fit in 63 characters.
	maxSetName = 52
)

// swapStatefulSets brings the namespace's StatefulSets to the renamed claims, one recreation
// stage per call; pending lists the sets still on their way.
func swapStatefulSets(ctx context.Context, c client.Client, ns string, r Renames, claims []string, res *Result) error {
	sets := &appsv1.StatefulSetList{}
	if err := c.List(ctx, sets, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("list StatefulSets in %s: %w", ns, err)
	}
	byName := map[string]*appsv1.StatefulSet{}
	for i := range sets.Items {
		byName[sets.Items[i].Name] = &sets.Items[i]
	}
	recreating := inRecreation(sets.Items)
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		set := byName[name]
		if original := set.Annotations[TemporaryAnnotation]; original != "" {
			if err := finishRecreation(ctx, c, set, byName[original], r, res); err != nil {
				return err
			}
			continue
		}
		if r == nil || recreating[name] {
			continue // Its temporary set drives its recreation (above), or only recreations are finished.
		}
		if err := swapStatefulSet(ctx, c, set, r, claims, res); err != nil {
			return err
		}
	}
	return nil
}

// swapStatefulSet patches a set whose claim templates keep their names, or starts its
// recreation by saving the renamed set as a temporary one and deleting the original.
func swapStatefulSet(ctx context.Context, c client.Client, set *appsv1.StatefulSet, r Renames, claims []string, res *Result) error {
	renamedTemplates, err := templateRenames(set.Name, templateNames(set.Spec.VolumeClaimTemplates), claims, r)
	if err != nil {
		return err
	}
	desired := set.DeepCopy()
	podChanges := rewritePodSpec(&desired.Spec.Template.Spec, r)
	for i := range desired.Spec.VolumeClaimTemplates {
		t := &desired.Spec.VolumeClaimTemplates[i]
		if to, ok := renamedTemplates[t.Name]; ok {
			renameVolumeUses(&desired.Spec.Template.Spec, t.Name, to)
			t.Name = to
		}
	}
	what := describe("StatefulSet", set.Namespace, set.Name, pointedAt(desired, r))
	switch {
	case len(renamedTemplates) > 0:
	case len(podChanges) > 0:
		if err := c.Patch(ctx, desired, client.MergeFrom(set)); err != nil {
			return fmt.Errorf("patch StatefulSet %s/%s: %w", set.Namespace, set.Name, err)
		}
		fallthrough
	default:
		if len(pointedAt(desired, r)) > 0 {
			res.Pointed = append(res.Pointed, what)
		}
		return nil
	}
	if len(set.Name) > maxSetName {
		return errSetNameTooLong(set.Namespace, set.Name)
	}
	temp := temporarySet(desired)
	if err := c.Create(ctx, temp); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create temporary StatefulSet %s/%s: %w", temp.Namespace, temp.Name, err)
	}
	if err := deleteOrphaning(ctx, c, set); err != nil {
		return err
	}
	res.Pending = append(res.Pending, what+" (recreating it)")
	return nil
}

// pointedAt returns what of a set's pod template and claim templates names renamed claims:
// "template <name>" for a claim template whose claims are rename targets.
func pointedAt(set *appsv1.StatefulSet, r Renames) []string {
	out := renamedClaims(&set.Spec.Template.Spec, r)
	for _, t := range set.Spec.VolumeClaimTemplates {
		prefix := t.Name + "-" + set.Name + "-"
		for from, to := range r {
			if _, ok := ordinalOf(to, prefix); ok && from != to {
				out = append(out, "template "+t.Name)
				break
			}
		}
	}
	return out
}

// temporarySet is the renamed set under its temporary name, with no replicas: the original's
// labels, annotations and replicas travel with it, for the original's recreation.
func temporarySet(desired *appsv1.StatefulSet) *appsv1.StatefulSet {
	annotations := maps.Clone(desired.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[TemporaryAnnotation] = desired.Name
	annotations[ReplicasAnnotation] = strconv.Itoa(int(ptr.Deref(desired.Spec.Replicas, 1)))
	spec := *desired.Spec.DeepCopy()
	spec.Replicas = ptr.To[int32](0)
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: desired.Namespace, Name: desired.Name + temporarySuffix,
			Labels: maps.Clone(desired.Labels), Annotations: annotations, OwnerReferences: desired.OwnerReferences,
		},
		Spec: spec,
	}
}

// FinishRecreations completes, in namespace ns, the StatefulSet recreations a Swap started and
// did not finish (its migration canceled or failed half-way): a set of which only the
// temporary copy is left is created again from it, and a temporary copy whose original still
// has its old claim templates is deleted. Call it again until the result is Done.
func FinishRecreations(ctx context.Context, c client.Client, ns string) (Result, error) {
	var res Result
	err := swapStatefulSets(ctx, c, ns, nil, nil, &res)
	return res, err
}

// finishRecreation creates the original set again from its temporary one once the original
// is gone, then deletes the temporary set. Without renames (FinishRecreations) an original
// that still exists is kept, and the temporary set is deleted.
func finishRecreation(ctx context.Context, c client.Client, temp, original *appsv1.StatefulSet, r Renames, res *Result) error {
	name := temp.Annotations[TemporaryAnnotation]
	what := fmt.Sprintf("StatefulSet %s/%s", temp.Namespace, name)
	switch {
	case original == nil:
		if err := c.Create(ctx, restoredSet(temp)); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("recreate %s: %w", what, err)
		}
		res.Pending = append(res.Pending, what+" is being recreated with its renamed claim templates")
	case original.DeletionTimestamp != nil:
		res.Pending = append(res.Pending, what+" is being deleted, to be recreated with its renamed claim templates")
	case original.Annotations[TemporaryAnnotation] == "" && slices.EqualFunc(original.Spec.VolumeClaimTemplates, temp.Spec.VolumeClaimTemplates,
		func(a, b corev1.PersistentVolumeClaim) bool { return a.Name == b.Name }):
		if err := deleteOrphaning(ctx, c, temp); err != nil {
			return err
		}
		if r == nil {
			res.Pointed = append(res.Pointed, what+" was recreated from its temporary copy")
		} else {
			res.Pointed = append(res.Pointed, describe("StatefulSet", temp.Namespace, name, pointedAt(restoredSet(temp), r)))
		}
	case r == nil:
		if err := deleteOrphaning(ctx, c, temp); err != nil {
			return err
		}
		res.Pending = append(res.Pending, what+" keeps its claim templates; its temporary copy is being deleted")
	default:
		// The original exists with other templates: a recreation interrupted before the
		// original was deleted. Deleting it resumes.
		if err := deleteOrphaning(ctx, c, original); err != nil {
			return err
		}
		res.Pending = append(res.Pending, what+" is being deleted, to be recreated with its renamed claim templates")
	}
	return nil
}

// restoredSet is the original set built from its temporary one.
func restoredSet(temp *appsv1.StatefulSet) *appsv1.StatefulSet {
	name := temp.Annotations[TemporaryAnnotation]
	annotations := maps.Clone(temp.Annotations)
	replicas, err := strconv.Atoi(annotations[ReplicasAnnotation])
	if err != nil {
		replicas = 0
	}
	delete(annotations, TemporaryAnnotation)
	delete(annotations, ReplicasAnnotation)
	spec := *temp.Spec.DeepCopy()
	spec.Replicas = ptr.To(int32(replicas))
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: temp.Namespace, Name: name,
			Labels: maps.Clone(temp.Labels), Annotations: annotations, OwnerReferences: temp.OwnerReferences,
		},
		Spec: spec,
	}
}

// deleteOrphaning deletes a set and leaves what it owns (its claims, with a Delete retention
// policy, and revisions) in place.
func deleteOrphaning(ctx context.Context, c client.Client, set *appsv1.StatefulSet) error {
	err := c.Delete(ctx, set, client.PropagationPolicy(metav1.DeletePropagationOrphan),
		client.Preconditions{UID: &set.UID})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete StatefulSet %s/%s: %w", set.Namespace, set.Name, err)
	}
	return nil
}
