package directimagestreammigration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/imagestream"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// observed is what a reconcile reads before deciding anything.
type observed struct {
	dism      *migv1.DirectImageStreamMigration
	settings  settings.Settings
	src, dest *migv1.MigCluster
	// source and destination are set when their cluster is Ready and reachable.
	source, destination *Remote
	srcErr, destErr     error
	// imageStream is the source ImageStream; nil when it is not there (or not read).
	imageStream *unstructured.Unstructured
	// imageStreamMissing says the source cluster was asked and has no such ImageStream.
	imageStreamMissing bool
	// destNamespaceMissing says the destination cluster has no destination namespace.
	destNamespaceMissing bool
}

// Remote is one of the DISM's clusters.
type Remote struct {
	Cluster *migv1.MigCluster
	Client  client.Client
	Config  *rest.Config
}

// destNamespace is the namespace the images go to.
func destNamespace(dism *migv1.DirectImageStreamMigration) string {
	if dism.Spec.DestNamespace != "" {
		return dism.Spec.DestNamespace
	}
	if ref := dism.Spec.ImageStreamRef; ref != nil {
		return ref.Namespace
	}
	return ""
}

// observe reads the DISM's clusters and, when they are usable, the source ImageStream and
// the destination namespace.
func (r *Reconciler) observe(ctx context.Context, dism *migv1.DirectImageStreamMigration) (*observed, error) {
	o := &observed{dism: dism}
	var err error
	if o.settings, err = r.Settings.Get(ctx); err != nil {
		return nil, err
	}
	if o.src, err = clustercache.Lookup(ctx, r.Client, dism.Spec.SrcMigClusterRef, dism.Namespace); err != nil {
		return nil, err
	}
	if o.dest, err = clustercache.Lookup(ctx, r.Client, dism.Spec.DestMigClusterRef, dism.Namespace); err != nil {
		return nil, err
	}
	if clustercache.Ready(o.src) {
		o.source, o.srcErr = r.remote(ctx, o.src)
	}
	if clustercache.Ready(o.dest) {
		o.destination, o.destErr = r.remote(ctx, o.dest)
	}
	ref := dism.Spec.ImageStreamRef
	if o.source != nil && ref != nil && ref.Name != "" && ref.Namespace != "" {
		is := imagestream.New()
		switch err := o.source.Client.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, is); {
		case err == nil:
			o.imageStream = is
		case apierrors.IsNotFound(err) || imagestream.IsNotServed(err):
			o.imageStreamMissing = true
		default:
			o.srcErr = fmt.Errorf("read ImageStream %s/%s: %w", ref.Namespace, ref.Name, err)
			o.source = nil
		}
	}
	if ns := destNamespace(dism); o.destination != nil && ns != "" {
		switch err := o.destination.Client.Get(ctx, types.NamespacedName{Name: ns}, &corev1.Namespace{}); {
		case apierrors.IsNotFound(err):
			o.destNamespaceMissing = true
		case err != nil:
			o.destErr = fmt.Errorf("read namespace %s: %w", ns, err)
			o.destination = nil
		}
	}
	return o, nil
}

// remote returns the client and REST config of a Ready cluster. The host's client is the
// uncached one: reads of ImageStreams and namespaces must not start informers on the host.
func (r *Reconciler) remote(ctx context.Context, c *migv1.MigCluster) (*Remote, error) {
	cl := r.HostDirect
	if !c.Spec.IsHostCluster {
		var err error
		if cl, err = r.Clusters.Get(ctx, c); err != nil {
			return nil, err
		}
	}
	cfg, err := r.Clusters.RESTConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	return &Remote{Cluster: c, Client: cl, Config: cfg}, nil
}
