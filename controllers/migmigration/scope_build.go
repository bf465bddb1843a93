package migmigration

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// scope builds the step functions' scope: clients of both clusters and the facts. It is nil
// when the plan or its clusters are missing; validation then says why.
func (r *Reconciler) scope(ctx context.Context, o *observed) (*Scope, error) {
	if o.plan == nil || o.src == nil || o.dest == nil || (o.storage == nil && !storageConversionPlan(o.plan)) {
		return nil, nil
	}
	src, err := r.remote(ctx, o.src)
	if err != nil {
		return nil, err
	}
	dest, err := r.remote(ctx, o.dest)
	if err != nil {
		return nil, err
	}
	_, sources := mapping.Namespaces(o.plan)
	images, err := hasImageStreams(ctx, src.Client, sources)
	if err != nil {
		return nil, fmt.Errorf("source cluster %s: %w", o.src.Name, err)
	}
	s := &Scope{
		Migration:   o.migration,
		Plan:        o.plan,
		Storage:     o.storage,
		Source:      src,
		Destination: dest,
		Host:        r.Client,
		Settings:    o.settings,
		Now:         r.Clock.Now,
		Log:         ctrl.LoggerFrom(ctx),
	}
	s.Facts = computeFacts(factsInput{
		migration: o.migration, plan: o.plan, src: o.src, dest: o.dest,
		settings: o.settings, hasImageStreams: images,
	})
	return s, nil
}

// remote returns a client and REST config for a MigCluster.
func (r *Reconciler) remote(ctx context.Context, cluster *migv1.MigCluster) (Remote, error) {
	c, err := r.Clusters.Get(ctx, cluster)
	if err != nil {
		return Remote{}, fmt.Errorf("client for cluster %s: %w", cluster.Name, err)
	}
	if cluster.Spec.IsHostCluster && r.HostDirect != nil {
		c = r.HostDirect
	}
	cfg, err := r.Clusters.RESTConfig(ctx, cluster)
	if err != nil {
		return Remote{}, fmt.Errorf("config for cluster %s: %w", cluster.Name, err)
	}
	return Remote{Cluster: cluster, Client: c, Config: cfg}, nil
}
