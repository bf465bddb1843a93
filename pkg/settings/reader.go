package settings

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// PreferredName is the name MTC gives its MigrationController; when several exist in the
// operator's namespace this one wins, else the first by name.
const PreferredName = "migration-controller"

// +kubebuilder:rbac:groups=migration.openshift.io,resources=migrationcontrollers,verbs=get;list;watch

// Reader reads the settings in force from the operator's namespace.
type Reader struct {
	client    client.Reader
	namespace string
}

// NewReader returns a Reader that lists MigrationControllers in namespace through c (the
// manager's cached client, so that a read costs no API call).
func NewReader(c client.Reader, namespace string) *Reader {
	return &Reader{client: c, namespace: namespace}
}

// Get returns the settings in force now: MTC's defaults when no MigrationController exists.
func (r *Reader) Get(ctx context.Context) (Settings, error) {
	list := &migv1.MigrationControllerList{}
	if err := r.client.List(ctx, list, client.InNamespace(r.namespace)); err != nil {
		return Defaults(), fmt.Errorf("list MigrationControllers in %s: %w", r.namespace, err)
	}
	if chosen := InForce(list.Items); chosen != nil {
		return FromSpec(&chosen.Spec), nil
	}
	return Defaults(), nil
}

// remoteReadTimeout bounds the read of a destination cluster's MigrationController.
const remoteReadTimeout = 10 * time.Second

// ForDestination returns s with what a destination cluster sets for itself. The seed says to
// set rsync_endpoint_type "on the appropriate destination cluster in your MigrationController
// CR", and MTC read it, with cluster_subdomain (the domain of that cluster's router), from each
// destination's own configuration. So when the destination cluster (dest, read with its
// MigCluster's token) has a MigrationController in the operator's namespace, its
// rsync_endpoint_type and cluster_subdomain win over the host's; otherwise, or where the
// cluster does not serve the MigrationController API, s is kept. Call it for remote
// destinations only: the host's MigrationController is already s.
func (r *Reader) ForDestination(ctx context.Context, s Settings, dest client.Reader) (Settings, error) {
	ctx, cancel := context.WithTimeout(ctx, remoteReadTimeout)
	defer cancel()
	list := &migv1.MigrationControllerList{}
	err := dest.List(ctx, list, client.InNamespace(r.namespace))
	switch {
	case apimeta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		return s, nil
	case err != nil:
		return s, fmt.Errorf("list MigrationControllers in %s on the destination cluster: %w", r.namespace, err)
	}
	chosen := InForce(list.Items)
	if chosen == nil {
		return s, nil
	}
	own := FromSpec(&chosen.Spec)
	if chosen.Spec.RsyncEndpointType != "" {
		s.RsyncEndpointType = own.RsyncEndpointType
	}
	if chosen.Spec.ClusterSubdomain != "" {
		s.ClusterSubdomain = own.ClusterSubdomain
	}
	return s, nil
}
