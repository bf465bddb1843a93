package settings

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpproxy"
	corev1 "k8s.io/api/core/v1"
)

// ProxyConfig is the MigrationController's httpProxy, httpsProxy and noProxy with the rules of
// HTTP_PROXY, HTTPS_PROXY and NO_PROXY (golang.org/x/net/http/httpproxy, what Go programs
// and curl-like tools follow: loopback addresses and localhost are never proxied).
func (s Settings) ProxyConfig() *httpproxy.Config {
	return &httpproxy.Config{HTTPProxy: s.HTTPProxy, HTTPSProxy: s.HTTPSProxy, NoProxy: s.NoProxy}
}

// ProxyForRequest is ProxyConfig as an http.Transport's Proxy, for a client used within one
// reconcile with the settings it read (LiveProxy serves long-lived clients).
func (s Settings) ProxyForRequest() func(*http.Request) (*url.URL, error) {
	fn := s.ProxyConfig().ProxyFunc()
	return func(req *http.Request) (*url.URL, error) { return fn(req.URL) }
}

// ProxyEnv is the proxy settings as the environment of the pods Ferry runs (transfer, hook):
// both spellings, since tools read one or the other. Empty when no proxy is set.
func (s Settings) ProxyEnv() []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, v := range []struct{ name, value string }{
		{"HTTP_PROXY", s.HTTPProxy}, {"HTTPS_PROXY", s.HTTPSProxy}, {"NO_PROXY", s.NoProxy},
	} {
		if v.value == "" {
			continue
		}
		out = append(out, corev1.EnvVar{Name: v.name, Value: v.value}, corev1.EnvVar{Name: strings.ToLower(v.name), Value: v.value})
	}
	return out
}

// proxyRefresh is how long a LiveProxy uses the settings it read before reading them again.
const proxyRefresh = 5 * time.Second

// LiveProxy picks the proxy of each outbound request of the operator from the settings in
// force: a change of httpProxy, httpsProxy or noProxy applies to new connections within
// proxyRefresh, without a restart. It reads the settings through a Reader over the manager's
// cache, so a request costs no API call.
type LiveProxy struct {
	reader *Reader
	now    func() time.Time

	mu      sync.Mutex
	read    time.Time
	current *httpproxy.Config
	fn      func(*url.URL) (*url.URL, error)
}

// NewLiveProxy returns a LiveProxy reading the settings through reader.
func NewLiveProxy(reader *Reader) *LiveProxy {
	return &LiveProxy{reader: reader, now: time.Now}
}

// ForRequest returns the proxy for req, nil for a direct connection (the signature of
// http.Transport.Proxy and rest.Config.Proxy).
func (p *LiveProxy) ForRequest(req *http.Request) (*url.URL, error) {
	return p.proxyFunc()(req.URL)
}

func (p *LiveProxy) proxyFunc() func(*url.URL) (*url.URL, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fn != nil && p.now().Sub(p.read) < proxyRefresh {
		return p.fn
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := p.reader.Get(ctx)
	if err != nil && p.fn != nil {
		// Keep the last settings read rather than dropping the proxy on a failed read.
		return p.fn
	}
	cfg := s.ProxyConfig()
	if p.current == nil || *p.current != *cfg {
		p.current, p.fn = cfg, cfg.ProxyFunc()
	}
	p.read = p.now()
	return p.fn
}
