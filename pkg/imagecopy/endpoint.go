package imagecopy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Network timeouts of every registry request. A registry that stops answering in the middle of
// a blob is caught by Copier.StallTimeout instead: a whole request has no deadline, as a blob
// may take minutes.
const (
	dialTimeout         = 30 * time.Second
	tlsHandshakeTimeout = 15 * time.Second
	// responseTimeout bounds the wait for a response's headers once the request is sent; the
	// commit of a large blob on an object-storage backed registry takes a while.
	responseTimeout = 2 * time.Minute
	idleConnTimeout = 90 * time.Second
)

// anonymousUser is the user name sent with a password when the Endpoint names none: OpenShift's
// registry takes any user name with a bearer token as password, and some registries refuse an
// empty one.
const anonymousUser = "ferry"

// Endpoint says how to reach one registry. It is plain data; NewRegistry turns it into a
// Registry, whose transport is built once.
type Endpoint struct {
	// Host is the registry's host[:port], as in image references (no scheme, no path).
	Host string
	// Username and Password authenticate to the registry. OpenShift's registry takes any user
	// name with a Kubernetes bearer token as the password. No password: anonymous access.
	Username, Password string
	// Insecure skips the verification of the registry's certificate (a MigCluster's insecure);
	// the connection still uses TLS.
	Insecure bool
	// PlainHTTP speaks HTTP without TLS, for registries that serve plain HTTP. Without it, plain
	// HTTP is never used, not even as a fallback (go-containerregistry falls back to HTTP for
	// loopback and private addresses, which would send the token in the clear).
	PlainHTTP bool
	// CABundle holds PEM certificates trusted in addition to the system roots.
	CABundle []byte
	// Proxy is the HTTPS proxy to reach the registry through (user and password in the URL
	// when it needs them), nil for a direct connection. The proxy variables of the
	// environment are not read: the caller decides (the MigrationController's httpsProxy and
	// noProxy).
	Proxy *url.URL
}

// Registry is an Endpoint ready for use: its HTTP transport (connection pool, TLS
// configuration, proxy) is built once and shared by every copy from or to it. It is safe for
// concurrent use.
type Registry struct {
	host      string
	plainHTTP bool
	auth      authn.Authenticator
	// transport is the base round tripper, before go-containerregistry adds authentication.
	transport *http.Transport
	// guarded is transport behind the scheme guard: what every request goes through.
	guarded http.RoundTripper
}

// NewRegistry checks ep and builds its transport.
func NewRegistry(ep Endpoint) (*Registry, error) {
	host := strings.TrimSpace(ep.Host)
	if host == "" {
		return nil, errors.New("registry host is empty")
	}
	if strings.Contains(host, "/") {
		return nil, fmt.Errorf("registry host %q must be host[:port], without scheme or path", host)
	}
	if _, err := name.NewRegistry(host, name.StrictValidation); err != nil {
		return nil, fmt.Errorf("registry host %q: %w", host, err)
	}
	tlsConfig, err := ep.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", host, err)
	}
	t := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       idleConnTimeout,
		MaxIdleConns:          100,
		// Parallel blobs each keep their connection between requests.
		MaxIdleConnsPerHost: 64,
		// HTTP/1.1 only: parallel blobs then get a TCP connection each, rather than sharing one
		// HTTP/2 connection and its flow-control window (Go's server grants 1 MiB per connection
		// for uploads), which caps the throughput of concurrent uploads.
		ForceAttemptHTTP2: false,
	}
	if ep.Proxy != nil {
		t.Proxy = http.ProxyURL(ep.Proxy)
	}
	scheme := "https"
	if ep.PlainHTTP {
		scheme = "http"
	}
	r := &Registry{host: host, plainHTTP: ep.PlainHTTP, auth: authn.Anonymous, transport: t,
		guarded: schemeGuard{host: host, scheme: scheme, next: t}}
	if ep.Password != "" {
		user := ep.Username
		if user == "" {
			user = anonymousUser
		}
		r.auth = &authn.Basic{Username: user, Password: ep.Password}
	}
	return r, nil
}

// tlsConfig is the TLS configuration of the endpoint: system roots plus CABundle, or no
// verification at all.
func (ep Endpoint) tlsConfig() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if ep.Insecure {
		c.InsecureSkipVerify = true //nolint:gosec // the MigCluster asks for it (insecure: true).
		return c, nil
	}
	if len(ep.CABundle) == 0 {
		return c, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		// No system roots on this machine: the bundle alone.
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(ep.CABundle) {
		return nil, errors.New("the CA bundle holds no PEM certificate")
	}
	c.RootCAs = pool
	return c, nil
}

// Host is the registry's host[:port].
func (r *Registry) Host() string { return r.host }

// CloseIdleConnections closes the connections the Registry keeps open between requests; call
// it when the Registry is no longer needed.
func (r *Registry) CloseIdleConnections() { r.transport.CloseIdleConnections() }

// repository names repo in the registry.
func (r *Registry) repository(repo string) (name.Repository, error) {
	opts := []name.Option{name.StrictValidation}
	if r.plainHTTP {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.NewRepository(r.host+"/"+repo, opts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("repository %q: %w", repo, err)
	}
	return ref, nil
}

// ping asks the registry for /v2/ over the guarded transport, without authentication, so that
// an unreachable or untrusted registry fails with the network's own error (go-containerregistry's
// handshake may race HTTPS and HTTP and then report both failures as one untyped error). 200
// and 401 both mean a registry answers.
func (r *Registry) ping(ctx context.Context) error {
	scheme := "https"
	if r.plainHTTP {
		scheme = "http"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+r.host+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: r.guarded}).Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	return transport.CheckError(resp, http.StatusOK, http.StatusUnauthorized)
}

// schemeGuard refuses requests to the registry's host in any scheme but the endpoint's:
// go-containerregistry tries HTTPS and plain HTTP side by side for some hosts, and a TLS
// endpoint must never be reached over plain HTTP (nor a plain one be kept waiting on a TLS
// attempt). Other hosts (a token service) are left alone.
type schemeGuard struct {
	host, scheme string
	next         http.RoundTripper
}

func (g schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == g.host && req.URL.Scheme != g.scheme {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%s request to %s refused: the registry is configured for %s", req.URL.Scheme, req.URL.Host, g.scheme)
	}
	return g.next.RoundTrip(req)
}
