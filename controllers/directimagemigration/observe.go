package directimagemigration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
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
	if o.src, err = r.cluster(ctx, dim.Spec.SrcMigClusterRef, dim.Namespace); err != nil {
		return nil, err
	}
	if o.dest, err = r.cluster(ctx, dim.Spec.DestMigClusterRef, dim.Namespace); err != nil {
		return nil, err
	}
	if ready(o.src) {
		o.source, o.srcErr = r.Clusters.Get(ctx, o.src)
	}
	if ready(o.dest) {
		o.destination, o.destErr = r.Clusters.Get(ctx, o.dest)
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

// cluster reads the MigCluster ref names, in the DIM's namespace when the ref names none; nil
// when the ref is unset or the MigCluster does not exist.
func (r *Reconciler) cluster(ctx context.Context, ref *corev1.ObjectReference, namespace string) (*migv1.MigCluster, error) {
	if ref == nil || ref.Name == "" {
		return nil, nil
	}
	ns := ref.Namespace
	if ns == "" {
		ns = namespace
	}
	c := &migv1.MigCluster{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, c); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get MigCluster %s/%s: %w", ns, ref.Name, err)
	}
	return c, nil
}

func ready(c *migv1.MigCluster) bool {
	return c != nil && conditions.IsTrue(c.Status.Conditions, migv1.Ready)
}
