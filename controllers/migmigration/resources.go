package migmigration

import (
	"context"
	"fmt"
	"slices"
	"strings"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/permissions"
)

// Labels that tie restored objects to the migration and plan that restored them (MTC's
// contract: the openshift-velero-plugin set them; a rollback deletes by the plan's).
const (
	migratedByMigrationLabel = "migration.openshift.io/migrated-by-migmigration"
	migratedByPlanLabel      = "migration.openshift.io/migrated-by-migplan"
	// restoreNameLabel is the label Velero puts on every object it restores.
	restoreNameLabel = velerov1.RestoreNameLabel
)

// namespacedKinds lists the namespaced kinds of a cluster that can be listed, patched and
// deleted: what a restore may have created. Subresources are left out.
func namespacedKinds(cfg *rest.Config) ([]schema.GroupVersionKind, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	lists, err := dc.ServerPreferredNamespacedResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("discover resources: %w", err)
	}
	var out []schema.GroupVersionKind
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range list.APIResources {
			verbs := res.Verbs
			if slices.Contains(verbs, "list") && slices.Contains(verbs, "delete") && slices.Contains(verbs, "patch") && !slices.Contains([]string{"events"}, res.Name) {
				out = append(out, gv.WithKind(res.Kind))
			}
		}
	}
	return out, nil
}

// eachLabelled calls fn for every object of a namespaced kind in namespaces that matches the
// selector, and for every such PersistentVolume (the one cluster-scoped kind a migration
// restores: moved volumes) bound to a claim in one of the namespaces, reading metadata only.
// A PV bound elsewhere is never the plan's, whatever its labels say: the label is only a hint
// on a cluster-wide object that other namespaces' owners may copy.
//
// Kinds the operator may not list (an administrator narrowed ferry-rollback) are skipped and
// returned, for a warning: a rollback then leaves them alone rather than failing.
func eachLabelled(ctx context.Context, r Remote, namespaces []string, sel client.MatchingLabels, fn func(*metav1.PartialObjectMetadata) error) ([]string, error) {
	var forbidden []string
	kinds, err := namespacedKinds(r.Config)
	if err != nil {
		return nil, err
	}
	pvs := &corev1.PersistentVolumeList{}
	if err := r.Client.List(ctx, pvs, sel); err != nil {
		return nil, fmt.Errorf("list PersistentVolumes: %w", err)
	}
	for i := range pvs.Items {
		pv := &pvs.Items[i]
		if pv.Spec.ClaimRef == nil || !slices.Contains(namespaces, pv.Spec.ClaimRef.Namespace) {
			continue
		}
		obj := &metav1.PartialObjectMetadata{ObjectMeta: pv.ObjectMeta}
		obj.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PersistentVolume"))
		if err := fn(obj); err != nil {
			return nil, err
		}
	}
	for _, gvk := range kinds {
		for _, ns := range namespaces {
			list := &metav1.PartialObjectMetadataList{}
			list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			err := r.Client.List(ctx, list, client.InNamespace(ns), sel)
			switch {
			case apierrors.IsForbidden(err):
				forbidden = addKind(forbidden, gvk)
				continue
			case err != nil:
				return nil, fmt.Errorf("list %s in %s: %w", gvk.Kind, ns, err)
			}
			for i := range list.Items {
				item := &list.Items[i]
				item.SetGroupVersionKind(gvk)
				if err := fn(item); err != nil {
					return nil, err
				}
			}
		}
	}
	return forbidden, nil
}

// addKind adds "Kind.group" to a sorted list of kinds, once.
func addKind(kinds []string, gvk schema.GroupVersionKind) []string {
	name := gvk.Kind
	if gvk.Group != "" {
		name += "." + gvk.Group
	}
	if i, found := slices.BinarySearch(kinds, name); !found {
		kinds = slices.Insert(kinds, i, name)
	}
	return kinds
}

// warnForbidden records a durable warning naming the restored objects a rollback's bookkeeping
// or deletion could not touch (ferry-rollback narrowed by the administrator). Kinds the
// operator may not even list are not named here: which objects of them exist is unknown, and
// the destination MigCluster's RollbackNotPrivileged warning already says the role is narrow.
func warnForbidden(s *Scope, conditionType, what string, objects []string) {
	if len(objects) == 0 {
		return
	}
	s.warn(conditionType, fmt.Sprintf("The operator may not %s %d restored objects on the destination cluster (%s): "+
		"a rollback leaves them in place. Grant their kinds through ClusterRole %s to let rollbacks remove them.",
		what, len(objects), strings.Join(listed(objects), ", "), permissions.RollbackRole))
}

// logUnlisted logs the kinds a walk could not list.
func logUnlisted(s *Scope, kinds []string) {
	if len(kinds) > 0 {
		s.Log.Info("Kinds the operator may not list on the destination are left out of rollback bookkeeping", "kinds", kinds)
	}
}

// objectName is "Kind namespace/name" for messages.
func objectName(obj *metav1.PartialObjectMetadata) string {
	return fmt.Sprintf("%s %s/%s", obj.Kind, obj.Namespace, obj.Name)
}

// labelRestored labels every object the restore created with the migration and plan: what a
// rollback deletes. Velero's restore-name label is not proof of that: Velero merges the labels
// of a backed-up ServiceAccount into one that already exists (restore-name included), so an
// object created before the Restore itself (both times from the destination's API server) is
// left alone. A rollback never deletes what existed before the migration.
func labelRestored(ctx context.Context, s *Scope, restore *velerov1.Restore) error {
	want := map[string]string{
		migratedByMigrationLabel: string(s.Migration.UID),
		migratedByPlanLabel:      string(s.Plan.UID),
	}
	var denied []string
	forbidden, err := eachLabelled(ctx, s.Destination, s.destinationNamespaces(), client.MatchingLabels{restoreNameLabel: restore.Name},
		func(obj *metav1.PartialObjectMetadata) error {
			if hasLabels(obj.Labels, want) || !createdBy(obj, restore) {
				return nil
			}
			before := obj.DeepCopy()
			labels := obj.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			for k, v := range want {
				labels[k] = v
			}
			obj.SetLabels(labels)
			err := s.Destination.Client.Patch(ctx, obj, client.MergeFrom(before))
			switch {
			case apierrors.IsForbidden(err):
				denied = append(denied, objectName(obj))
			case err != nil:
				return client.IgnoreNotFound(fmt.Errorf("label restored %s %s/%s: %w", obj.Kind, obj.Namespace, obj.Name, err))
			}
			return nil
		})
	if err != nil {
		return err
	}
	logUnlisted(s, forbidden)
	warnForbidden(s, migv1.RestoredObjectsNotLabelled, "label", denied)
	return nil
}

// createdBy says whether obj may have been created by restore: it was not created before the
// Restore object was (timestamps have a resolution of one second; an object created in the
// Restore's second counts as the restore's).
func createdBy(obj metav1.Object, restore *velerov1.Restore) bool {
	created := obj.GetCreationTimestamp()
	return !created.Before(&restore.CreationTimestamp)
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// deleteMigrated deletes from the destination every object a migration of the plan restored.
func deleteMigrated(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	sel := client.MatchingLabels{migratedByPlanLabel: string(s.Plan.UID)}
	count := 0
	var denied []string
	forbidden, err := eachLabelled(ctx, s.Destination, s.destinationNamespaces(), sel, func(obj *metav1.PartialObjectMetadata) error {
		count++
		if kept, err := deleteOne(ctx, s.Destination.Client, obj); err != nil || !kept {
			return err
		}
		denied = append(denied, objectName(obj))
		return nil
	})
	if err != nil {
		return itinerary.Outcome{}, err
	}
	logUnlisted(s, forbidden)
	warnForbidden(s, migv1.MigratedObjectsKept, "delete", denied)
	s.setProgress(fmt.Sprintf("Deleting %d migrated objects from the destination cluster.", count))
	return itinerary.Done(), nil
}

// ensureMigratedDeleted waits until the objects deleteMigrated deleted are gone.
func ensureMigratedDeleted(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	sel := client.MatchingLabels{migratedByPlanLabel: string(s.Plan.UID)}
	var left []string
	_, err := eachLabelled(ctx, s.Destination, s.destinationNamespaces(), sel, func(obj *metav1.PartialObjectMetadata) error {
		if obj.DeletionTimestamp == nil {
			// Not being deleted: one the operator may not delete (warned about) or a late one.
			if kept, err := deleteOne(ctx, s.Destination.Client, obj); err != nil || kept {
				return err
			}
		}
		left = append(left, objectName(obj))
		return nil
	})
	if err != nil {
		return itinerary.Outcome{}, err
	}
	if len(left) > 0 {
		s.setProgress(append([]string{fmt.Sprintf("Waiting for %d migrated objects to be deleted.", len(left))}, listed(left)...)...)
		return itinerary.Poll(pollWorkload), nil
	}
	s.setProgress("All migrated objects are deleted.")
	return itinerary.Done(), nil
}

// deleteOne deletes a migrated object; kept says the operator may not delete it.
func deleteOne(ctx context.Context, c client.Client, obj *metav1.PartialObjectMetadata) (kept bool, err error) {
	err = c.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground))
	switch {
	case apierrors.IsForbidden(err):
		return true, nil
	case err != nil:
		return false, client.IgnoreNotFound(fmt.Errorf("delete migrated %s %s/%s: %w", obj.Kind, obj.Namespace, obj.Name, err))
	}
	return false, nil
}

// listedInProgress is how many names a progress line or warning lists before it
// stops: enough to act on, short enough for `kubectl describe`.
const listedInProgress = 10

// listed returns the first listedInProgress names.
func listed(lines []string) []string {
	if len(lines) > listedInProgress {
		return lines[:listedInProgress]
	}
	return lines
}
