package migcluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

const (
	// registryProbePath is the registry API's base endpoint (the distribution spec's
	// "end-1"), which every registry serves.
	registryProbePath = "/v2/"
	// registryProbeTimeout bounds the registry route test.
	registryProbeTimeout = 10 * time.Second
)

// registryPath turns spec.exposedRegistryPath into status.registryPath: no scheme, no
// trailing slash.
func registryPath(exposed string) string {
	if i := strings.Index(exposed, "//"); i >= 0 {
		exposed = exposed[i+2:]
	}
	return strings.TrimRight(exposed, "/")
}

// errRegistryUntrusted says that the registry's certificate did not verify.
var errRegistryUntrusted = errors.New("the registry's TLS certificate is not trusted; add the CA that signed it to `spec.caBundle`, " +
	"or set `spec.insecure: true` to skip verification")

// registryClient is the HTTP client of the registry probe for a cluster. It verifies the
// registry's certificate against the system roots and the cluster's caBundle, unless the
// cluster says insecure: true (the only way to skip verification, as for its API server). It
// never follows a redirect: the answer of the address the user gave is what is judged. It
// connects through proxy, or the proxy of the operator's environment when nil.
func registryClient(cluster *migv1.MigCluster, proxy func(*http.Request) (*url.URL, error)) *http.Client {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cluster.Spec.Insecure {
		tlsConfig.InsecureSkipVerify = true //nolint:gosec // the user's explicit spec.insecure, as for the API server.
	} else if len(cluster.Spec.CABundle) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pool.AppendCertsFromPEM(cluster.Spec.CABundle)
		tlsConfig.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	if proxy != nil {
		transport.Proxy = proxy
	}
	return &http.Client{
		Timeout:       registryProbeTimeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// probeRegistry checks that a container registry answers at path, over HTTPS.
//
// The probe sends no credentials. MTC sent the remote cluster's service account token to
// /v2/_catalog with TLS verification off; exposedRegistryPath is a free string, so whoever
// could edit a MigCluster (or intercept the route) received a token with cluster-wide rights.
// The probe's question is only "is there a registry", and the registry API answers it
// without a token. The token goes to the registry only when images are copied
// (DirectImageStreamMigration), over TLS verified against spec.caBundle unless the user set
// spec.insecure, as for the API server. GET /v2/ returns 401 with a WWW-Authenticate
// challenge from a registry that wants credentials, and 200 with the
// Docker-Distribution-API-Version header from an anonymous one; a web server, a router's
// "application not available" page or a redirect is none of these.
func probeRegistry(ctx context.Context, cluster *migv1.MigCluster, path string, proxy func(*http.Request) (*url.URL, error)) error {
	ctx, cancel := context.WithTimeout(ctx, registryProbeTimeout)
	defer cancel()
	target := "https://" + path + registryProbePath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("%q is not a host[:port][/path]", path)
	}
	httpClient := registryClient(cluster, proxy)
	defer httpClient.CloseIdleConnections()
	resp, err := httpClient.Do(req)
	if err != nil {
		if untrustedCertificate(err) {
			return fmt.Errorf("GET %s: %w (%w)", target, errRegistryUntrusted, errors.Unwrap(err))
		}
		return fmt.Errorf("GET %s: %w", target, errors.Unwrap(err))
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != "":
		return nil
	case resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Docker-Distribution-API-Version"), "registry/2"):
		return nil
	}
	return fmt.Errorf("GET %s answered %s, not as a container registry does (401 with a WWW-Authenticate challenge, "+
		"or 200 with a Docker-Distribution-API-Version header)", target, resp.Status)
}

// untrustedCertificate reports whether err is a failed verification of the server's
// certificate.
func untrustedCertificate(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host)
}
