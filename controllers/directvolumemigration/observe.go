package directvolumemigration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// observed is what a reconcile reads before deciding anything.
type observed struct {
	dvm       *migv1.DirectVolumeMigration
	settings  settings.Settings
	src, dest *migv1.MigCluster
	// source and destination are set when their cluster is Ready and reachable.
	source, destination *Remote
	// missingPVCs are the spec's source PVCs ("ns/name") absent from the source cluster.
	missingPVCs []string
	// sourcePVCs are the spec's source PVCs found, by "ns/name".
	sourcePVCs map[string]*corev1.PersistentVolumeClaim
	// connectErrors explain why a Ready cluster could not be reached.
	srcErr, destErr error
	// others are the other DVMs of the namespace, and otherDests their destination
	// MigClusters by DVM name (nil when unset or missing).
	others     []migv1.DirectVolumeMigration
	otherDests map[string]*migv1.MigCluster
}

// sameDestination says whether another DVM copies to this DVM's destination cluster.
func (o *observed) sameDestination(other *migv1.DirectVolumeMigration) bool {
	ref, mine := other.Spec.DestMigClusterRef, o.dvm.Spec.DestMigClusterRef
	if ref != nil && mine != nil && ref.Name == mine.Name && ref.Namespace == mine.Namespace {
		return true
	}
	return mapping.IntraCluster(o.dest, o.otherDests[other.Name])
}

// Remote is one of the DVM's clusters.
type Remote struct {
	Cluster *migv1.MigCluster
	Client  client.Client
	// Logs reads pod logs (the log API is not part of controller-runtime's client).
	Logs kubernetes.Interface
}

// observe reads the DVM's clusters and, when they are usable, its source PVCs.
func (r *Reconciler) observe(ctx context.Context, dvm *migv1.DirectVolumeMigration) (*observed, error) {
	o := &observed{dvm: dvm, sourcePVCs: map[string]*corev1.PersistentVolumeClaim{}}
	s, err := r.Settings.Get(ctx)
	if err != nil {
		return nil, err
	}
	o.settings = s
	if o.src, err = r.cluster(ctx, dvm.Spec.SrcMigClusterRef, dvm.Namespace); err != nil {
		return nil, err
	}
	if o.dest, err = r.cluster(ctx, dvm.Spec.DestMigClusterRef, dvm.Namespace); err != nil {
		return nil, err
	}
	if err := r.observeOthers(ctx, o); err != nil {
		return nil, err
	}
	if ready(o.src) {
		o.source, o.srcErr = r.remote(ctx, o.src)
	}
	if ready(o.dest) {
		o.destination, o.destErr = r.remote(ctx, o.dest)
	}
	if o.destination != nil && !o.dest.Spec.IsHostCluster {
		// rsync_endpoint_type and cluster_subdomain are the destination cluster's own.
		if o.settings, err = r.Settings.ForDestination(ctx, o.settings, o.destination.Client); err != nil {
			return nil, err
		}
	}
	if o.source == nil {
		return o, nil
	}
	for _, p := range dvm.Spec.PersistentVolumeClaims {
		if p.ObjectReference == nil {
			continue
		}
		pvc := &corev1.PersistentVolumeClaim{}
		err := o.source.Client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: p.Name}, pvc)
		switch {
		case apierrors.IsNotFound(err):
			o.missingPVCs = append(o.missingPVCs, p.Namespace+"/"+p.Name)
		case err != nil:
			return nil, fmt.Errorf("get PVC %s/%s on the source cluster: %w", p.Namespace, p.Name, err)
		default:
			o.sourcePVCs[p.Namespace+"/"+p.Name] = pvc
		}
	}
	return o, nil
}

// observeOthers reads the namespace's other DVMs (cached) and their destination clusters, so
// that two DVMs never copy into one PVC at once (destinationConflict).
func (r *Reconciler) observeOthers(ctx context.Context, o *observed) error {
	list := &migv1.DirectVolumeMigrationList{}
	if err := r.Client.List(ctx, list, client.InNamespace(o.dvm.Namespace)); err != nil {
		return fmt.Errorf("list DirectVolumeMigrations: %w", err)
	}
	o.otherDests = map[string]*migv1.MigCluster{}
	for i := range list.Items {
		other := &list.Items[i]
		if other.UID == o.dvm.UID || other.Status.Phase == itinerary.Completed {
			continue
		}
		o.others = append(o.others, *other)
		dest, err := r.cluster(ctx, other.Spec.DestMigClusterRef, other.Namespace)
		if err != nil {
			return err
		}
		o.otherDests[other.Name] = dest
	}
	return nil
}

func ready(c *migv1.MigCluster) bool { return clustercache.Ready(c) }

// cluster reads a referenced MigCluster; nil when the reference is unset or the cluster is
// gone (validation says which).
func (r *Reconciler) cluster(ctx context.Context, ref *corev1.ObjectReference, defaultNS string) (*migv1.MigCluster, error) {
	return clustercache.Lookup(ctx, r.Client, ref, defaultNS)
}

// remote returns clients for a MigCluster: the direct host client for the host cluster.
func (r *Reconciler) remote(ctx context.Context, cluster *migv1.MigCluster) (*Remote, error) {
	c, err := r.Clusters.Get(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("client for cluster %s: %w", cluster.Name, err)
	}
	if cluster.Spec.IsHostCluster && r.HostDirect != nil {
		c = r.HostDirect
	}
	cs, err := r.Clusters.Clientset(ctx, cluster)
	if err != nil {
		return nil, err
	}
	return &Remote{Cluster: cluster, Client: c, Logs: cs}, nil
}
