package migmigration

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/imagestream"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// rewriteDestinationImages points the restored workloads that ran images of the source's
// internal registry at the destination's, where the DirectImageMigration copied them (with
// the namespace mapping). MTC did this in its Velero restore plugin; Ferry does it here,
// right before the destination applications are started (UnQuiesceDestApplications), so that
// quiesced workloads never start a pod on the old reference, and no Velero plugin has to be
// built, shipped and registered on every destination cluster. Workloads restored unquiesced
// (quiescePods false) roll out once more when their template changes. Objects a controller
// owns are left to their owner (a Deployment's ReplicaSets, a Job's pods).
func rewriteDestinationImages(ctx context.Context, s *Scope) ([]string, error) {
	if !s.hasDirectImageMigration() {
		return nil, nil
	}
	srcHost, err := internalRegistry(ctx, s.Source.Client, s.sourceNamespaces())
	if err != nil {
		return nil, fmt.Errorf("find the source cluster's internal registry: %w", err)
	}
	destHost, err := internalRegistry(ctx, s.Destination.Client, s.destinationNamespaces())
	if err != nil {
		return nil, fmt.Errorf("find the destination cluster's internal registry: %w", err)
	}
	if srcHost == "" || destHost == "" {
		return nil, nil
	}
	byName, _ := mapping.Namespaces(s.Plan)
	rw := imagestream.Rewriter{Source: srcHost, Destination: destHost, Namespaces: byName}
	var changed []string
	for _, w := range imagestream.Workloads {
		for _, ns := range s.destinationNamespaces() {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(w.GVK.GroupVersion().WithKind(w.GVK.Kind + "List"))
			err := s.Destination.Client.List(ctx, list, client.InNamespace(ns))
			if imagestream.IsNotServed(err) {
				break
			}
			if err != nil {
				return changed, fmt.Errorf("list %s in %s on the destination cluster: %w", w.GVK.Kind, ns, err)
			}
			for i := range list.Items {
				obj := &list.Items[i]
				if metav1.GetControllerOf(obj) != nil {
					continue
				}
				before := obj.DeepCopy()
				if !imagestream.RewriteWorkload(obj, w, rw) {
					continue
				}
				if err := s.Destination.Client.Patch(ctx, obj, client.MergeFrom(before)); err != nil {
					return changed, fmt.Errorf("point %s %s/%s at the destination registry: %w", w.GVK.Kind, ns, obj.GetName(), err)
				}
				changed = append(changed, fmt.Sprintf("%s %s/%s now runs images of the destination registry %s", w.GVK.Kind, ns, obj.GetName(), destHost))
			}
		}
	}
	return changed, nil
}

// internalRegistry is the host of a cluster's internal registry as its ImageStreams in
// namespaces report it (status.dockerImageRepository), or "" when they have none.
func internalRegistry(ctx context.Context, c client.Client, namespaces []string) (string, error) {
	for _, ns := range namespaces {
		list := imagestream.NewList()
		err := c.List(ctx, list, client.InNamespace(ns))
		if imagestream.IsNotServed(err) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		for i := range list.Items {
			st, err := imagestream.StatusOf(&list.Items[i])
			if err != nil {
				continue
			}
			if host := imagestream.RegistryHost(st.DockerImageRepository); host != "" {
				return host, nil
			}
		}
	}
	return "", nil
}
