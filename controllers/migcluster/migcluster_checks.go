package migcluster

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
)

// scope is what one reconcile observed about a MigCluster. Checks fill it in order; the first
// failing check sets failure and the remaining checks are skipped.
type scope struct {
	cluster *migv1.MigCluster
	// secret is "namespace/name" of the token Secret; set by newScope when referenced.
	secret string
	// config reaches the remote cluster; set by checkAccess.
	config *rest.Config
	// version is the cluster's gitVersion; set by checkConnection.
	version string
	// registryPath is the registry address for status.registryPath; set by newScope.
	registryPath string
	// failure is the condition of the first failing check, or nil when all passed.
	failure *migv1.Condition
	// warnings are conditions of checks that passed with reservations (privileges of one
	// side only).
	warnings []migv1.Condition
}

func newScope(cluster *migv1.MigCluster) *scope {
	s := &scope{cluster: cluster, registryPath: registryPath(cluster.Spec.ExposedRegistryPath)}
	if key, ok := clustercache.SecretKey(cluster); ok {
		s.secret = key.String()
	}
	return s
}

// check runs one validation step. It records a failure in the scope, or returns an error for
// problems of the operator itself (which go to backoff).
type check func(ctx context.Context, s *scope) error

// runChecks runs the checks that apply to the cluster in order until one fails.
func (r *Reconciler) runChecks(ctx context.Context, s *scope) error {
	checks := []check{r.checkPrivileges, r.checkRegistryRoute}
	if !s.cluster.Spec.IsHostCluster {
		checks = []check{r.checkURL, r.checkAccess, r.checkConnection, r.checkPrivileges, r.checkRegistryRoute}
	}
	for _, c := range checks {
		if err := c(ctx, s); err != nil {
			return err
		}
		if s.failure != nil {
			ctrl.LoggerFrom(ctx).V(1).Info("MigCluster check failed", "condition", s.failure.Type, "reason", s.failure.Reason)
			return nil
		}
	}
	return nil
}

func (r *Reconciler) checkURL(_ context.Context, s *scope) error {
	if err := clustercache.ValidateURL(s.cluster.Spec.URL); err != nil {
		s.failure = invalidURL(err)
	}
	return nil
}

func (r *Reconciler) checkAccess(ctx context.Context, s *scope) error {
	access, err := clustercache.AccessFor(ctx, r.APIReader, s.cluster)
	switch {
	case err == nil:
		s.config = clustercache.RESTConfigFor(access)
		// The checks must reach the cluster as its clients will: through the proxy.
		s.config.Proxy = r.Proxy
	case errors.Is(err, clustercache.ErrSecretRefNotSet), errors.Is(err, clustercache.ErrSecretNotFound),
		errors.Is(err, clustercache.ErrSecretNamespaceNotAllowed):
		s.failure = invalidSecretRef(err, s.secret)
	case errors.Is(err, clustercache.ErrTokenKeyNotFound), errors.Is(err, clustercache.ErrTokenEmpty):
		s.failure = invalidToken(err, s.secret)
	default:
		return fmt.Errorf("read access for MigCluster: %w", err)
	}
	return nil
}

func (r *Reconciler) checkConnection(ctx context.Context, s *scope) error {
	version, err := clustercache.ProbeConnection(ctx, s.config)
	switch {
	case err == nil:
		s.version = version
	case errors.Is(err, clustercache.ErrUnauthorized):
		s.failure = tokenRejected(s.secret)
	default:
		s.failure = connectFailed(err)
	}
	return nil
}

func (r *Reconciler) checkRegistryRoute(ctx context.Context, s *scope) error {
	if s.registryPath == "" {
		return nil
	}
	if err := probeRegistry(ctx, s.cluster, s.registryPath, r.Proxy); err != nil {
		s.failure = invalidRegistryRoute(err)
	}
	return nil
}
