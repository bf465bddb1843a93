package migcluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// fakeRegistry answers as a registry that wants a token does: 401 with a challenge on /v2/
// and on /v2/_catalog without a token, the catalog with one. It counts the requests that
// carried an Authorization header.
type fakeRegistry struct {
	*httptest.Server
	authorized atomic.Int32
	ca         []byte
}

func newFakeRegistry(t *testing.T, handler http.HandlerFunc) *fakeRegistry {
	t.Helper()
	r := &fakeRegistry{}
	if handler == nil {
		handler = func(w http.ResponseWriter, req *http.Request) {
			switch {
			case req.Header.Get("Authorization") != "" && req.URL.Path == "/v2/_catalog":
				_, _ = w.Write([]byte(`{"repositories":[]}`))
			case strings.HasPrefix(req.URL.Path, "/v2/"):
				w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
				w.Header().Set("WWW-Authenticate", `Bearer realm="https://`+req.Host+`/openshift/token"`)
				w.WriteHeader(http.StatusUnauthorized)
			default:
				http.NotFound(w, req)
			}
		}
	}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "" {
			r.authorized.Add(1)
		}
		handler(w, req)
	}))
	// Each server has its own self-signed certificate (httptest's is the same for all).
	cert, der := selfSigned(t)
	r.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	r.StartTLS()
	r.ca = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	t.Cleanup(r.Close)
	return r
}

func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "registry"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der
}

func (r *fakeRegistry) host() string { return strings.TrimPrefix(r.URL, "https://") }

func (r *fakeRegistry) caPEM() []byte { return r.ca }

// probe runs the registry route check of a remote cluster that has a token.
func probe(t *testing.T, spec migv1.MigClusterSpec) *migv1.Condition {
	t.Helper()
	s := newScope(&migv1.MigCluster{Spec: spec})
	s.config = &rest.Config{BearerToken: "remote-sa-token"}
	if err := (&Reconciler{}).checkRegistryRoute(context.Background(), s); err != nil {
		t.Fatalf("checkRegistryRoute: %v", err)
	}
	return s.failure
}

func TestRegistryProbeVerifiesTLSAndNeverSendsTheToken(t *testing.T) {
	reg := newFakeRegistry(t, nil)
	otherCA := newFakeRegistry(t, nil).caPEM()

	untrusted := probe(t, migv1.MigClusterSpec{ExposedRegistryPath: reg.host()})
	if untrusted == nil || untrusted.Type != migv1.InvalidRegistryRoute {
		t.Errorf("a registry with an untrusted certificate passed: %+v", untrusted)
	} else if !strings.Contains(untrusted.Message, "caBundle") || !strings.Contains(untrusted.Message, "insecure") {
		t.Errorf("message does not say how to trust the registry: %q", untrusted.Message)
	}
	if c := probe(t, migv1.MigClusterSpec{ExposedRegistryPath: reg.host(), CABundle: otherCA}); c == nil {
		t.Errorf("a registry whose certificate another CA signed passed")
	}
	if c := probe(t, migv1.MigClusterSpec{ExposedRegistryPath: "https://" + reg.host() + "/", CABundle: append(otherCA, reg.caPEM()...)}); c != nil {
		t.Errorf("a registry trusted through caBundle failed: %+v", c)
	}
	if c := probe(t, migv1.MigClusterSpec{ExposedRegistryPath: reg.host(), Insecure: true}); c != nil {
		t.Errorf("a registry with insecure: true failed: %+v", c)
	}
	if n := reg.authorized.Load(); n != 0 {
		t.Errorf("%d requests carried the cluster's token to the registry route", n)
	}
}

func TestRegistryProbeRecognisesARegistry(t *testing.T) {
	anonymous := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		_, _ = w.Write([]byte("{}"))
	}
	plainWeb := func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>hello</html>")) }
	basicAuth := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) }
	target := newFakeRegistry(t, nil)
	redirect := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusFound)
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		path    string
		ok      bool
	}{
		{"a registry that wants a token", nil, "", true},
		{"an anonymous registry", anonymous, "", true},
		{"a web server", plainWeb, "", false},
		{"401 without a challenge", basicAuth, "", false},
		{"a registry under a path that is not one", nil, "/not-a-registry", false},
		{"a redirect, not followed", redirect, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := newFakeRegistry(t, tc.handler)
			c := probe(t, migv1.MigClusterSpec{ExposedRegistryPath: reg.host() + tc.path, CABundle: append(reg.caPEM(), target.caPEM()...)})
			if tc.ok && c != nil {
				t.Errorf("failed: %+v", c)
			}
			if !tc.ok && (c == nil || c.Type != migv1.InvalidRegistryRoute || c.Reason != ReasonRouteTestFailed) {
				t.Errorf("passed or wrong condition: %+v", c)
			}
		})
	}
	if n := target.authorized.Load(); n != 0 {
		t.Errorf("the token followed a redirect %d times", n)
	}
}
