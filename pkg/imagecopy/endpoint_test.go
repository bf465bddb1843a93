package imagecopy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

func TestNewRegistryChecksTheHost(t *testing.T) {
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"image-registry.openshift-image-registry.svc:5000", true},
		{"default-route-openshift-image-registry.apps.example.com", true},
		{"10.0.0.1:5000", true},
		{"[::1]:5000", true},
		{"", false},
		{"https://registry.example.com", false},
		{"registry.example.com/ns", false},
		{"registry example", false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			_, err := NewRegistry(Endpoint{Host: tc.host})
			if (err == nil) != tc.ok {
				t.Errorf("NewRegistry(%q) = %v, want ok %v", tc.host, err, tc.ok)
			}
		})
	}
}

func TestNewRegistryCredentials(t *testing.T) {
	for _, tc := range []struct {
		name           string
		user, password string
		want           authn.AuthConfig
	}{
		{"token as password, any user", "", "sha256~token", authn.AuthConfig{Username: anonymousUser, Password: "sha256~token"}},
		{"user and password", "admin", "secret", authn.AuthConfig{Username: "admin", Password: "secret"}},
		{"no password: anonymous", "admin", "", authn.AuthConfig{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRegistry(Endpoint{Host: "registry.example.com", Username: tc.user, Password: tc.password})
			if err != nil {
				t.Fatal(err)
			}
			got, err := authn.Authorization(t.Context(), r.auth)
			if err != nil {
				t.Fatal(err)
			}
			if *got != tc.want {
				t.Errorf("authorization %+v, want %+v", *got, tc.want)
			}
		})
	}
}

// TestEndpointTLS checks which certificates an Endpoint trusts, against a real TLS server.
func TestEndpointTLS(t *testing.T) {
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer server.Close()
	host := strings.TrimPrefix(server.URL, "https://")
	serverCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	// httptest servers all share one certificate: another CA is made here.
	otherCA := selfSignedCA(t)

	for _, tc := range []struct {
		name   string
		ep     Endpoint
		reason string // empty: the registry answers
	}{
		{"its CA in the bundle", Endpoint{Host: host, CABundle: serverCA}, ""},
		{"its CA among others", Endpoint{Host: host, CABundle: append(append([]byte{}, otherCA...), serverCA...)}, ""},
		{"system roots only", Endpoint{Host: host}, ReasonTLS},
		{"another CA", Endpoint{Host: host, CABundle: otherCA}, ReasonTLS},
		{"insecure", Endpoint{Host: host, Insecure: true}, ""},
		{"plain HTTP to a TLS server", Endpoint{Host: host, PlainHTTP: true}, ReasonTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRegistry(t, tc.ep)
			err := r.ping(t.Context())
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("ping: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("ping succeeded")
			}
			if f := Classify(&Error{Side: Source, Registry: host, Err: err}); f.Reason != tc.reason {
				t.Errorf("classified %+v, want %s", f, tc.reason)
			}
		})
	}
	if _, err := NewRegistry(Endpoint{Host: host, CABundle: []byte("not a certificate")}); err == nil {
		t.Error("a CA bundle without a certificate was accepted")
	}
}

// TestSchemeGuard: a TLS endpoint is never reached over plain HTTP, whatever go-containerregistry
// tries (it races HTTP against HTTPS for loopback and private addresses).
func TestSchemeGuard(t *testing.T) {
	served := false
	server := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served = true }))
	defer server.Close()
	host := strings.TrimPrefix(server.URL, "http://")
	r := mustRegistry(t, Endpoint{Host: host})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, server.URL+"/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := r.guarded.RoundTrip(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("a plain HTTP request went through a TLS endpoint")
	}
	if served {
		t.Error("the server saw the request")
	}
	plain := mustRegistry(t, Endpoint{Host: host, PlainHTTP: true})
	resp, err := plain.guarded.RoundTrip(req)
	if err != nil {
		t.Fatalf("plain endpoint: %v", err)
	}
	_ = resp.Body.Close()
}

// selfSignedCA is the PEM certificate of a new CA.
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another CA"}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestEndpointProxy(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://environment-proxy:3128")
	req := &http.Request{URL: &url.URL{Scheme: "https", Host: "registry.example.com"}}
	direct := mustRegistry(t, Endpoint{Host: "registry.example.com"})
	if direct.transport.Proxy != nil {
		if u, _ := direct.transport.Proxy(req); u != nil {
			t.Errorf("without Proxy, the environment's proxy %s is used", u)
		}
	}
	proxy, _ := url.Parse("http://user:pass@proxy.example.com:3128")
	via := mustRegistry(t, Endpoint{Host: "registry.example.com", Proxy: proxy})
	u, err := via.transport.Proxy(req)
	if err != nil || u == nil || u.String() != proxy.String() {
		t.Errorf("proxy %v, %v; want %s", u, err, proxy)
	}
}
