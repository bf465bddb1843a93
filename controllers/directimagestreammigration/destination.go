package directimagestreammigration

import (
	"context"
	"fmt"
	"maps"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/imagestream"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

// pollDestination is how often the destination ImageStream is read while its tags do not
// resolve yet.
const pollDestination = 2 * time.Second

// migratedLabels are the DISM labels the destination ImageStream carries, so that a rollback
// of the plan deletes it like every other object the migration created.
var migratedLabels = []string{veleroadapter.MigratedByMigPlanLabel, veleroadapter.MigratedByMigMigrationLabel}

// ensureDestinationImageStream creates the destination ImageStream when the registry did not
// (OpenShift's registry creates one on push; a registry that does not leaves it to us), then
// waits until each copied tag resolves there to the copied digest: the point of the copy is
// that workloads referencing the stream find their images.
func ensureDestinationImageStream(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	src := s.ImageStream
	key := types.NamespacedName{Namespace: destNamespace(s.DISM), Name: src.GetName()}
	dest := imagestream.New()
	err := s.Destination.Client.Get(ctx, key, dest)
	switch {
	case imagestream.IsNotServed(err):
		// A destination without the ImageStream API: the images are in its registry, and
		// workloads reference them by registry path.
		return itinerary.Done(), nil
	case apierrors.IsNotFound(err):
		if err := s.Destination.Client.Create(ctx, s.destinationImageStream(key)); err != nil && !apierrors.IsAlreadyExists(err) {
			return itinerary.Outcome{}, fmt.Errorf("create ImageStream %s on the destination cluster: %w", key, err)
		}
		return itinerary.Wait(pollDestination), nil
	case err != nil:
		return itinerary.Outcome{}, fmt.Errorf("read ImageStream %s on the destination cluster: %w", key, err)
	}
	if err := s.labelPushedImageStream(ctx, dest); err != nil {
		return itinerary.Outcome{}, err
	}
	srcStatus, err := imagestream.StatusOf(src)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	destStatus, err := imagestream.StatusOf(dest)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	if missing := unresolvedTags(srcStatus, destStatus); len(missing) > 0 {
		return itinerary.Wait(pollDestination), nil
	}
	return itinerary.Done(), nil
}

// labelPushedImageStream gives the migration's labels to a destination stream that our push
// created (OpenShift's registry creates the stream of a repository on its first push), so
// that a rollback deletes it like a stream we created. A stream older than this DISM existed
// before the migration: it is not ours to label, and a rollback must leave it.
func (s *Scope) labelPushedImageStream(ctx context.Context, dest *unstructured.Unstructured) error {
	started := s.DISM.Status.StartTimestamp
	if created := dest.GetCreationTimestamp(); started == nil || created.Before(started) {
		return nil
	}
	labels := dest.GetLabels()
	missing := false
	for _, l := range migratedLabels {
		if v, ok := s.DISM.Labels[l]; ok && labels[l] != v {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	before := dest.DeepCopy()
	if labels == nil {
		labels = map[string]string{}
	}
	for _, l := range migratedLabels {
		if v, ok := s.DISM.Labels[l]; ok {
			labels[l] = v
		}
	}
	dest.SetLabels(labels)
	if err := s.Destination.Client.Patch(ctx, dest, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("label ImageStream %s/%s on the destination cluster: %w", dest.GetNamespace(), dest.GetName(), err)
	}
	return nil
}

// destinationImageStream is the ImageStream to create on the destination: the source's
// labels, annotations and spec, references to streams of the source namespace moved to the
// destination namespace, plus the migration's labels.
func (s *Scope) destinationImageStream(key types.NamespacedName) *unstructured.Unstructured {
	src := s.ImageStream
	out := imagestream.New()
	out.SetNamespace(key.Namespace)
	out.SetName(key.Name)
	labels := maps.Clone(src.GetLabels())
	if labels == nil {
		labels = map[string]string{}
	}
	for _, l := range migratedLabels {
		if v, ok := s.DISM.Labels[l]; ok {
			labels[l] = v
		}
	}
	out.SetLabels(labels)
	out.SetAnnotations(src.GetAnnotations())
	if spec, ok := src.Object["spec"].(map[string]any); ok {
		spec = runtime.DeepCopyJSON(spec)
		remapTagSources(spec, src.GetNamespace(), key.Namespace)
		out.Object["spec"] = spec
	}
	return out
}

// remapTagSources points spec tags that follow another tag or image of the source namespace
// at the destination namespace.
func remapTagSources(spec map[string]any, from, to string) {
	tags, _ := spec["tags"].([]any)
	for _, t := range tags {
		tag, _ := t.(map[string]any)
		src, _ := tag["from"].(map[string]any)
		if src == nil {
			continue
		}
		kind, _ := src["kind"].(string)
		ns, _ := src["namespace"].(string)
		if (kind == "ImageStreamTag" || kind == "ImageStreamImage") && ns == from {
			src["namespace"] = to
		}
	}
}

// unresolvedTags lists the source's local tags whose newest image the destination stream
// does not resolve to the same digest yet.
func unresolvedTags(src, dest imagestream.Status) []string {
	resolved := map[string]string{}
	for _, t := range dest.Tags {
		if len(t.Items) > 0 {
			resolved[t.Tag] = t.Items[0].Image
		}
	}
	var missing []string
	for _, img := range imagestream.LocalImages(src, imagestream.RegistryHost(src.DockerImageRepository)) {
		for _, tag := range img.Tags {
			if resolved[tag] != img.Digest {
				missing = append(missing, tag)
			}
		}
	}
	return missing
}
