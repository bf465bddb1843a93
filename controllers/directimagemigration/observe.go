package directimagemigration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// namespacePair is one entry of spec.namespaces: a source namespace and its destination.
type namespacePair struct{ src, dest string }

// observed is what a reconcile reads before deciding anything.
type observed struct {
	dim       *migv1.DirectImageMigration
	src, dest *migv1.MigCluster
	// source and destination are clients of the clusters, set when they are Ready and
	// reachable.
	source, destination client.Client
	srcErr, destErr     error
	// pairs are the parsed spec.namespaces; badNamespaces those that did not parse.
	pairs         []namespacePair
	badNamespaces []string
	// missingNamespaces are source namespaces the source cluster does not have.
	missingNamespaces []string
}

// observe reads the DIM's clusters and, when the source is usable, its namespaces.
func (r *Reconciler) observe(ctx context.Context, dim *migv1.DirectImageMigration) (*observed, error) {
	o := &observed{dim: dim}
	for _, entry := range dim.Spec.Namespaces {
		src, dest, err := mapping.Parse(entry)
		if err != nil {
			o.badNamespaces = append(o.badNamespaces, entry)
			continue
		}
		o.pairs = append(o.pairs, namespacePair{src: src, dest: dest})
	}
	var err error
	if o.src, err = clustercache.Lookup(ctx, r.Client, dim.Spec.SrcMigClusterRef, dim.Namespace); err != nil {
		return nil, err
	}
	if o.dest, err = clustercache.Lookup(ctx, r.Client, dim.Spec.DestMigClusterRef, dim.Namespace); err != nil {
		return nil, err
	}
	if clustercache.Ready(o.src) {
		o.source, o.srcErr = r.client(ctx, o.src)
	}
	if clustercache.Ready(o.dest) {
		o.destination, o.destErr = r.client(ctx, o.dest)
	}
	if o.source == nil {
		return o, nil
	}
	for _, p := range o.pairs {
		switch err := o.source.Get(ctx, types.NamespacedName{Name: p.src}, &corev1.Namespace{}); {
		case apierrors.IsNotFound(err):
			o.missingNamespaces = append(o.missingNamespaces, p.src)
		case err != nil:
			o.srcErr, o.source = fmt.Errorf("read namespace %s: %w", p.src, err), nil
			return o, nil
		}
	}
	return o, nil
}

// client is the client of a cluster: the uncached host client for the host cluster (reads of
// ImageStreams and namespaces must not start informers on the host), else the remote's.
func (r *Reconciler) client(ctx context.Context, c *migv1.MigCluster) (client.Client, error) {
	if c.Spec.IsHostCluster {
		return r.HostDirect, nil
	}
	return r.Clusters.Get(ctx, c)
}
