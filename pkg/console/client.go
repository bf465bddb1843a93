package console

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// clusterScoped are the kinds of the scheme the console touches that have no namespace; every
// other kind is namespaced.
var clusterScoped = map[string]bool{
	"Namespace": true, "PersistentVolume": true, "StorageClass": true, "Node": true,
	"SelfSubjectAccessReview": true, "SelfSubjectReview": true, "SubjectAccessReview": true,
	"ClusterRole": true, "ClusterRoleBinding": true,
}

// staticMapper maps every kind of the scheme to its resource without discovery, so that a
// user's client makes no request but the ones the page needs.
func staticMapper(s *runtime.Scheme) meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	for gvk := range s.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		scope := meta.RESTScopeNamespace
		if clusterScoped[gvk.Kind] {
			scope = meta.RESTScopeRoot
		}
		m.Add(gvk, scope)
	}
	return m
}

// userConfig is the host's REST config carrying only the user's token: AnonymousClientConfig
// drops whatever credentials the base holds, so nothing is sent but the user's identity.
func (s *Server) userConfig(token string) *rest.Config {
	cfg := rest.AnonymousClientConfig(s.base)
	cfg.BearerToken = token
	cfg.QPS, cfg.Burst = 50, 100
	return cfg
}

// userClient is a client acting as the user. client-go caches TLS transports by their TLS
// settings, so users' clients share connections and differ only in the token they add.
func (s *Server) userClient(token string) (client.WithWatch, error) {
	return s.clientFor(s.userConfig(token))
}

func (s *Server) clientFor(cfg *rest.Config) (client.WithWatch, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("HTTP client: %w", err)
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: s.scheme, Mapper: s.mapper, HTTPClient: httpClient})
	if err != nil {
		return nil, fmt.Errorf("API client: %w", err)
	}
	return c, nil
}

func (s *Server) userClientset(token string) (*kubernetes.Clientset, error) {
	cs, err := kubernetes.NewForConfig(s.userConfig(token))
	if err != nil {
		return nil, fmt.Errorf("API client: %w", err)
	}
	return cs, nil
}
