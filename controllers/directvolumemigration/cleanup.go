package directvolumemigration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// transferKinds are the kinds of transfer resources, found by the DVM's labels.
func transferKinds() []client.ObjectList {
	return []client.ObjectList{&corev1.PodList{}, &corev1.ServiceList{}, &corev1.ConfigMapList{}, &corev1.SecretList{}}
}

// place is a cluster and the namespaces of the DVM on it.
type place struct {
	client     client.Client
	namespaces []string
}

// places are where transfer resources may exist: the source namespaces on the source, the
// destination namespaces on the destination. A nil cluster is skipped.
func places(src, dest *Remote, srcNS, destNS []string) []place {
	var out []place
	if src != nil {
		out = append(out, place{src.Client, srcNS})
	}
	if dest != nil {
		out = append(out, place{dest.Client, destNS})
	}
	return out
}

// deleteTransferResources deletes the DVM's transfer pods, Services, ConfigMaps and Secrets
// on both clusters and its credentials on the host (MTC's CleanStaleRsyncResources and
// DeleteRsyncResources). DVMPs are kept unless deleteProgressReportingCRs says otherwise.
func deleteTransferResources(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	if _, err := deleteLabelled(ctx, string(s.DVM.UID), places(s.Source, s.Destination, s.sourceNamespaces(), s.destinationNamespaces())); err != nil {
		return itinerary.Outcome{}, err
	}
	if err := deleteCredentials(ctx, s.Host, s.DVM, s.Names); err != nil {
		return itinerary.Outcome{}, err
	}
	if s.DVM.Spec.DeleteProgressReportingCRs {
		if err := s.Host.DeleteAllOf(ctx, &migv1.DirectVolumeMigrationProgress{}, client.InNamespace(s.DVM.Namespace),
			client.MatchingLabels{transfer.LabelDVM: string(s.DVM.UID)}); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("delete DirectVolumeMigrationProgresses: %w", err)
		}
	}
	return itinerary.Done(), nil
}

// waitTransferResourcesGone waits until no transfer resource of the DVM is left.
func waitTransferResourcesGone(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	left, err := deleteLabelled(ctx, string(s.DVM.UID), places(s.Source, s.Destination, s.sourceNamespaces(), s.destinationNamespaces()))
	if err != nil {
		return itinerary.Outcome{}, err
	}
	if left > 0 {
		return itinerary.Poll(pollPods), nil
	}
	return itinerary.Done(), nil
}

// deleteLabelled deletes, in every place, the objects of transferKinds labelled for the DVM,
// and returns how many were still there (being deleted or just asked to be).
func deleteLabelled(ctx context.Context, dvmUID string, where []place) (int, error) {
	left := 0
	for _, p := range where {
		for _, ns := range p.namespaces {
			for _, list := range transferKinds() {
				if err := p.client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels(transfer.Selector(dvmUID))); err != nil {
					return 0, fmt.Errorf("list %T in %s: %w", list, ns, err)
				}
				items, err := metaItems(list)
				if err != nil {
					return 0, err
				}
				for _, obj := range items {
					left++
					if obj.GetDeletionTimestamp() != nil {
						continue
					}
					if err := client.IgnoreNotFound(p.client.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground))); err != nil {
						return 0, fmt.Errorf("delete %T %s/%s: %w", obj, ns, obj.GetName(), err)
					}
				}
			}
		}
	}
	return left, nil
}

// metaItems returns the items of a list.
func metaItems(list client.ObjectList) ([]client.Object, error) {
	objs, err := apimeta.ExtractList(list)
	if err != nil {
		return nil, fmt.Errorf("items of %T: %w", list, err)
	}
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		obj, ok := o.(client.Object)
		if !ok {
			return nil, fmt.Errorf("%T is not an object", o)
		}
		out = append(out, obj)
	}
	return out, nil
}

// deleteCredentials deletes the DVM's credentials Secret on the host.
func deleteCredentials(ctx context.Context, host client.Client, dvm *migv1.DirectVolumeMigration, names transfer.Names) error {
	secret := &corev1.Secret{}
	secret.Namespace, secret.Name = dvm.Namespace, names.Credentials()
	if err := client.IgnoreNotFound(host.Delete(ctx, secret)); err != nil {
		return fmt.Errorf("delete credentials Secret %s: %w", types.NamespacedName{Namespace: dvm.Namespace, Name: secret.Name}, err)
	}
	return nil
}
