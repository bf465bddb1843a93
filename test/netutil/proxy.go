package netutil

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Proxy is an HTTP proxy on the loopback for tests: it tunnels CONNECT requests and forwards
// plain http requests, dialing the hosts it was given at the address it was given, so that a
// name only the proxy knows (under .test, which never resolves) is reachable only through it.
type Proxy struct {
	// URL is the proxy's address, for a client's proxy setting.
	URL      *url.URL
	requests atomic.Int32
}

// TestingT is what StartProxy needs of a test: a *testing.T, or GinkgoT() in a Ginkgo suite.
type TestingT interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// StartProxy starts a Proxy resolving hosts (name to IP); it stops when the test ends.
func StartProxy(t TestingT, hosts map[string]string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{URL: &url.URL{Scheme: "http", Host: ln.Addr().String()}}
	resolve := func(hostport string) (string, error) {
		host, port, err := net.SplitHostPort(hostport)
		if err != nil {
			return "", err
		}
		if ip, ok := hosts[strings.ToLower(host)]; ok {
			host = ip
		}
		return net.JoinHostPort(host, port), nil
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		if r.Method != http.MethodConnect {
			p.forward(w, r, resolve)
			return
		}
		target, err := resolve(r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		upstream, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			_ = upstream.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { _, _ = io.Copy(upstream, buf); _ = upstream.Close() }()
		_, _ = io.Copy(conn, upstream)
		_ = conn.Close()
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// forward sends a plain http request (absolute URL, as clients send to a proxy) on.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, resolve func(string) (string, error)) {
	if r.URL.Host == "" {
		http.Error(w, "not a proxy request", http.StatusBadRequest)
		return
	}
	port := r.URL.Port()
	if port == "" {
		port = "80"
	}
	target, err := resolve(net.JoinHostPort(r.URL.Hostname(), port))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Host = target
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// Requests is how many requests (tunnels or forwarded requests) the proxy carried.
func (p *Proxy) Requests() int { return int(p.requests.Load()) }
