package directimagemigration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/imagestream"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

// Correlation labels of the DISMs a DIM creates (MTC's), besides veleroadapter's part-of.
const (
	dimLabel         = "directimagemigration"
	imageStreamLabel = "imagestream"
)

// inheritedLabels pass from the DIM to its DISMs (and from them to the destination streams):
// a rollback of the plan deletes by them.
var inheritedLabels = []string{veleroadapter.MigratedByMigPlanLabel, veleroadapter.MigratedByMigMigrationLabel}

// createDestinationNamespaces creates the destination namespaces the destination lacks, with
// the source namespace's labels and annotations, so that images have somewhere to go before
// any restore runs (a stage migration copies images long before the final restore).
func createDestinationNamespaces(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	for _, p := range s.Pairs {
		err := s.Destination.Get(ctx, types.NamespacedName{Name: p.dest}, &corev1.Namespace{})
		if err == nil {
			continue
		}
		if !apierrors.IsNotFound(err) {
			return itinerary.Outcome{}, fmt.Errorf("read namespace %s on the destination cluster: %w", p.dest, err)
		}
		src := &corev1.Namespace{}
		if err := s.Source.Get(ctx, types.NamespacedName{Name: p.src}, src); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("read namespace %s on the source cluster: %w", p.src, err)
		}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.dest,
			Labels: maps.Clone(src.Labels), Annotations: maps.Clone(src.Annotations)}}
		delete(ns.Labels, corev1.LabelMetadataName)
		if err := s.Destination.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return itinerary.Outcome{}, fmt.Errorf("create namespace %s on the destination cluster: %w", p.dest, err)
		}
	}
	return itinerary.Done(), nil
}

// dismName is the deterministic name of the DISM of a source stream: the DIM's name and a
// hash of the stream's namespace and name (names may be long; the hash keeps it valid).
func dismName(dim *migv1.DirectImageMigration, namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	prefix := dim.Name
	if len(prefix) > 200 {
		prefix = prefix[:200]
	}
	return prefix + "-" + hex.EncodeToString(sum[:])[:10]
}

// listImageStreams lists the source streams of every namespace (with spec.labelSelector) into
// status.newISs, each with the name of its DISM, before any DISM exists.
func listImageStreams(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	dim := s.DIM
	if dim.Status.NewISs != nil || len(dim.Status.SuccessfulISs)+len(dim.Status.FailedISs)+len(dim.Status.DeletedISs) > 0 {
		return itinerary.Done(), nil // Listed by an earlier reconcile.
	}
	opts := []client.ListOption{}
	if sel := dim.Spec.LabelSelector; sel != nil {
		selector, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return itinerary.Failed("InvalidLabelSelector", fmt.Sprintf("spec.labelSelector: %v", err)), nil
		}
		opts = append(opts, client.MatchingLabelsSelector{Selector: selector})
	}
	items := []*migv1.ImageStreamListItem{}
	for _, p := range s.Pairs {
		list := imagestream.NewList()
		err := s.Source.List(ctx, list, append(opts, client.InNamespace(p.src))...)
		if imagestream.IsNotServed(err) {
			break // No ImageStream API on the source: nothing to copy.
		}
		if err != nil {
			return itinerary.Outcome{}, fmt.Errorf("list ImageStreams of %s on the source cluster: %w", p.src, err)
		}
		for _, is := range list.Items {
			items = append(items, &migv1.ImageStreamListItem{
				ObjectReference: &corev1.ObjectReference{Kind: imagestream.GVK.Kind, APIVersion: imagestream.GVK.GroupVersion().String(),
					Namespace: is.GetNamespace(), Name: is.GetName(), UID: is.GetUID()},
				DestNamespace: p.dest,
				DirectMigration: &corev1.ObjectReference{Kind: "DirectImageStreamMigration", APIVersion: migv1.GroupVersion.String(),
					Namespace: dim.Namespace, Name: dismName(dim, is.GetNamespace(), is.GetName())},
			})
		}
	}
	if len(items) == 0 {
		return itinerary.Done(), nil
	}
	dim.Status.NewISs = items
	// Persist the names before any DISM is created: the next reconcile finds them and goes on.
	return itinerary.Wait(again), nil
}

// createImageStreamMigrations creates the DISM of every listed stream that does not have one.
// A stream gone from the source is marked notFound and moved to deletedISs.
func createImageStreamMigrations(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	dim := s.DIM
	var remaining []*migv1.ImageStreamListItem
	for _, item := range dim.Status.NewISs {
		is := imagestream.New()
		err := s.Source.Get(ctx, types.NamespacedName{Namespace: item.Namespace, Name: item.Name}, is)
		switch {
		case apierrors.IsNotFound(err):
			item.NotFound = true
			dim.Status.DeletedISs = append(dim.Status.DeletedISs, item)
			continue
		case err != nil:
			return itinerary.Outcome{}, fmt.Errorf("read ImageStream %s/%s on the source cluster: %w", item.Namespace, item.Name, err)
		}
		dism := s.newImageStreamMigration(item, is.GetUID())
		if err := controllerutil.SetControllerReference(dim, dism, s.r.HostDirect.Scheme()); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("own DirectImageStreamMigration: %w", err)
		}
		if err := s.r.HostDirect.Create(ctx, dism); err != nil && !apierrors.IsAlreadyExists(err) {
			return itinerary.Outcome{}, fmt.Errorf("create DirectImageStreamMigration %s: %w", dism.Name, err)
		}
		remaining = append(remaining, item)
	}
	dim.Status.NewISs = remaining
	return itinerary.Done(), nil
}

// newImageStreamMigration builds the DISM of one listed stream (MTC's spec and labels).
func (s *Scope) newImageStreamMigration(item *migv1.ImageStreamListItem, isUID types.UID) *migv1.DirectImageStreamMigration {
	dim := s.DIM
	labels := map[string]string{veleroadapter.PartOfLabel: veleroadapter.PartOfValue, dimLabel: string(dim.UID), imageStreamLabel: string(isUID)}
	for _, l := range inheritedLabels {
		if v, ok := dim.Labels[l]; ok {
			labels[l] = v
		}
	}
	dism := &migv1.DirectImageStreamMigration{
		ObjectMeta: metav1.ObjectMeta{Namespace: item.DirectMigration.Namespace, Name: item.DirectMigration.Name, Labels: labels},
		Spec: migv1.DirectImageStreamMigrationSpec{
			SrcMigClusterRef:  dim.Spec.SrcMigClusterRef,
			DestMigClusterRef: dim.Spec.DestMigClusterRef,
			ImageStreamRef:    &corev1.ObjectReference{Namespace: item.Namespace, Name: item.Name},
		},
	}
	if item.DestNamespace != item.Namespace {
		dism.Spec.DestNamespace = item.DestNamespace
	}
	return dism
}
