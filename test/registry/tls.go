package registry

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"

	"github.com/ferrymtc/ferry/test/netutil"
)

// serving is the front's TLS material: a fresh CA (caPEM, what clients must trust) and a
// serving certificate signed by it.
type serving struct {
	caPEM []byte
	cert  tls.Certificate
}

// newServing makes a CA and a certificate for 127.0.0.1, localhost and the internal
// registry's service name, as OpenShift's registry is served with a certificate of the
// cluster's service CA for its service name and a router's for its route.
func newServing(name string) (*serving, error) {
	internalName, _, _ := strings.Cut(InternalHost, ":")
	caPEM, certPEM, keyPEM, err := netutil.ServingCertificate("ferry-test-registry-ca-"+name, "localhost", internalName)
	if err != nil {
		return nil, fmt.Errorf("registry certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("registry certificate: %w", err)
	}
	return &serving{caPEM: caPEM, cert: cert}, nil
}

// clientTransport is an HTTP transport that trusts caPEM (and only it).
func clientTransport(caPEM []byte) *http.Transport {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	return t
}
