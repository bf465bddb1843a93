package cli

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/scheme"
)

// remoteTimeout bounds each call to a remote cluster, so that a cluster that cannot be
// reached slows a describe or a must-gather down instead of hanging it.
const remoteTimeout = 15 * time.Second

// ClusterClients are the clients of one MigCluster.
type ClusterClients struct {
	Cluster   *migv1.MigCluster
	Client    client.Client
	Clientset kubernetes.Interface
}

// ClusterClients connects to the MigCluster ref names (in the migration namespace when the
// reference has none): the host cluster through the CLI's own kubeconfig (so as the user),
// a remote one with the MigCluster's token, as the operator does (pkg/clustercache), which
// needs read access to the token Secret.
func (o *Options) ClusterClients(ctx context.Context, ref *corev1.ObjectReference) (*ClusterClients, error) {
	host, err := o.Client()
	if err != nil {
		return nil, err
	}
	cluster, err := clustercache.Lookup(ctx, host, ref, o.Namespace())
	if err != nil {
		return nil, err
	}
	if cluster == nil {
		return nil, fmt.Errorf("MigCluster %v not found", ref)
	}
	if cluster.Spec.IsHostCluster {
		cs, err := o.Clientset()
		if err != nil {
			return nil, err
		}
		return &ClusterClients{Cluster: cluster, Client: host, Clientset: cs}, nil
	}
	access, err := clustercache.AccessFor(ctx, host, cluster)
	if err != nil {
		return nil, fmt.Errorf("MigCluster %s: %w", cluster.Name, err)
	}
	cfg := clustercache.RESTConfigFor(access)
	cfg.Timeout = remoteTimeout
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, fmt.Errorf("connect to MigCluster %s: %w", cluster.Name, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to MigCluster %s: %w", cluster.Name, err)
	}
	return &ClusterClients{Cluster: cluster, Client: c, Clientset: cs}, nil
}
