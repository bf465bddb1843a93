package directvolumemigration

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/pkg/volumestats"
)

// namespaceNameLabel is set by the API server on every namespace to its own name; copying it
// from a namespace of another name would be wrong.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// migratedByMigration and migratedByPlan are MTC's labels on the PVCs a migration created.
const (
	migratedByMigration = "migration.openshift.io/migrated-by-migmigration"
	migratedByPlan      = "migration.openshift.io/migrated-by-migplan"
)

// createDestinationNamespaces creates each missing destination namespace with the labels and
// annotations of its source namespace (so that SCC UID/GID ranges and Pod Security labels
// match). An existing namespace is kept as it is; a terminating one is an error until it is
// gone (the phase times out).
func createDestinationNamespaces(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	pairs := map[string]string{}
	for _, p := range s.pvcs() {
		pairs[destNamespace(p)] = p.Namespace
	}
	for dest, src := range pairs {
		existing := &corev1.Namespace{}
		err := s.Destination.Client.Get(ctx, types.NamespacedName{Name: dest}, existing)
		switch {
		case err == nil && existing.Status.Phase == corev1.NamespaceTerminating:
			return itinerary.Outcome{}, fmt.Errorf("destination namespace %s is terminating", dest)
		case err == nil:
			continue
		case !apierrors.IsNotFound(err):
			return itinerary.Outcome{}, fmt.Errorf("get destination namespace %s: %w", dest, err)
		}
		source := &corev1.Namespace{}
		if err := s.Source.Client.Get(ctx, types.NamespacedName{Name: src}, source); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("get source namespace %s: %w", src, err)
		}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: dest, Labels: maps.Clone(source.Labels), Annotations: maps.Clone(source.Annotations),
		}}
		delete(ns.Labels, namespaceNameLabel)
		if err := s.Destination.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return itinerary.Outcome{}, fmt.Errorf("create destination namespace %s: %w", dest, err)
		}
	}
	return itinerary.Done(), nil
}

// createDestinationPVCs creates each destination PVC that does not exist yet, grown when PV
// resizing is on and the source is nearly full. An existing one is written into only when a
// migration of the same plan (or this standalone DVM) created it, or the DVM opts in (see
// mayWriteInto): a later stage or cutover copies into it again, moving only what changed. Any
// other existing PVC fails the DVM before anything is created, so no transfer pod ever mounts
// it.
func createDestinationPVCs(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	var missing, refused []migv1.PVCToMigrate
	for _, p := range s.pvcs() {
		existing := &corev1.PersistentVolumeClaim{}
		err := s.Destination.Client.Get(ctx, types.NamespacedName{Namespace: destNamespace(p), Name: destName(p)}, existing)
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, p)
		case err != nil:
			return itinerary.Outcome{}, fmt.Errorf("get destination PVC %s: %w", destKey(p), err)
		case !mayWriteInto(s.DVM, existing):
			refused = append(refused, p)
		}
	}
	if len(refused) > 0 {
		var keys []string
		for _, p := range refused {
			keys = append(keys, destKey(p))
		}
		c := notOwnedCondition(keys)
		conditions.Set(s.DVM, c, metav1.NewTime(s.Now()))
		return itinerary.Failed(migv1.DestinationPVCsNotOwned, c.Message), nil
	}
	var usage map[string]volumestats.Usage
	if s.Settings.EnableDVMPVResizing && len(missing) > 0 {
		var err error
		if usage, err = s.sourceUsage(ctx); err != nil {
			return itinerary.Outcome{}, err
		}
	}
	for _, p := range missing {
		src := s.SourcePVCs[pvcKey(p)]
		if src == nil {
			return itinerary.Outcome{}, fmt.Errorf("source PVC %s is gone", pvcKey(p))
		}
		pvc := destinationPVC(s.DVM, p, src)
		note := ""
		if s.Settings.EnableDVMPVResizing {
			note = s.resize(pvc, p, usage)
		}
		err := s.Destination.Client.Create(ctx, pvc)
		switch {
		case apierrors.IsAlreadyExists(err):
			// Created meanwhile, by someone else: the next reconcile judges it.
			return itinerary.Outcome{}, fmt.Errorf("destination PVC %s appeared while it was being created", destKey(p))
		case err != nil:
			return itinerary.Outcome{}, fmt.Errorf("create destination PVC %s: %w", destKey(p), err)
		case note != "":
			s.resized = append(s.resized, note)
		}
	}
	return itinerary.Done(), nil
}

// destinationPVC builds the destination PVC of p: the source's labels and the migration's,
// the target storage class, access modes and volume mode, and the larger of the source's
// request and capacity (a PV bigger than its claim may hold more than the request).
func destinationPVC(dvm *migv1.DirectVolumeMigration, p migv1.PVCToMigrate, src *corev1.PersistentVolumeClaim) *corev1.PersistentVolumeClaim {
	labels := maps.Clone(src.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	if owner := metav1.GetControllerOf(dvm); owner != nil && owner.Kind == "MigMigration" {
		labels[migratedByMigration] = string(owner.UID)
		if plan := dvm.Labels[migratedByPlan]; plan != "" {
			labels[migratedByPlan] = plan
		}
	} else {
		labels[transfer.LabelMigratedByDVM] = string(dvm.UID)
	}
	size := src.Spec.Resources.Requests[corev1.ResourceStorage]
	if capacity, ok := src.Status.Capacity[corev1.ResourceStorage]; ok && capacity.Cmp(size) > 0 {
		size = capacity
	}
	modes := p.TargetAccessModes
	if len(modes) == 0 {
		modes = src.Spec.AccessModes
	}
	volumeMode := src.Spec.VolumeMode
	if p.TargetVolumeMode != nil {
		volumeMode = p.TargetVolumeMode
	}
	// targetStorageClass is the class, "" none (static PVs on the destination), as the seed
	// documents and MTC does; never the source's class, which the destination may lack.
	class := ptr.To(p.TargetStorageClass)
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: destNamespace(p), Name: destName(p), Labels: labels},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      modes,
			StorageClassName: class,
			VolumeMode:       volumeMode,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size.DeepCopy()}},
		},
	}
}
