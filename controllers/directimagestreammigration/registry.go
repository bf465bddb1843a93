package directimagestreammigration

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/ferrymtc/ferry/pkg/settings"
)

// registryAccess is how to reach one cluster's image registry.
type registryAccess struct {
	// cluster names the MigCluster, for messages.
	cluster string
	// host is the registry's host[:port] (the MigCluster's status.registryPath).
	host     string
	token    func() (string, error)
	insecure bool
	caBundle []byte
	// proxy chooses the proxy of a request: the MigrationController's httpProxy or
	// httpsProxy, unless noProxy names the registry (x/net's httpproxy, the rules of
	// HTTP_PROXY, HTTPS_PROXY and NO_PROXY).
	proxy func(*url.URL) (*url.URL, error)
}

// accessFor is the registry access of a cluster: its registry path, its token as password, its
// TLS settings and the proxy in force.
func accessFor(r *Remote, s settings.Settings) (registryAccess, error) {
	if r == nil {
		return registryAccess{}, errors.New("the cluster cannot be reached")
	}
	c := r.Cluster
	a := registryAccess{cluster: c.Name, host: c.Status.RegistryPath, insecure: c.Spec.Insecure, caBundle: c.Spec.CABundle}
	if a.host == "" {
		return registryAccess{}, fmt.Errorf("the MigCluster %s has no registry path", c.Name)
	}
	a.proxy = s.ProxyConfig().ProxyFunc()
	cfg := r.Config
	switch {
	case cfg.BearerTokenFile != "":
		// The operator's own projected token rotates: read it for each copy.
		file := cfg.BearerTokenFile
		a.token = func() (string, error) {
			b, err := os.ReadFile(file) //nolint:gosec // the path of the operator's own REST config.
			if err != nil {
				return "", fmt.Errorf("read the service account token: %w", err)
			}
			return strings.TrimSpace(string(b)), nil
		}
	case cfg.BearerToken != "":
		token := cfg.BearerToken
		a.token = func() (string, error) { return token, nil }
	default:
		return registryAccess{}, fmt.Errorf("the MigCluster %s has no bearer token to authenticate to its registry", c.Name)
	}
	return a, nil
}
