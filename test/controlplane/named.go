package controlplane

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ferrymtc/ferry/test/netutil"
)

// WithNamedCertificate makes the API server also serve a certificate valid for names (and
// 127.0.0.1), signed by a CA of its own (NamedCABundle), to clients that ask for one of the
// names (TLS SNI): kube-apiserver's --tls-sni-cert-key, what OpenShift's namedCertificates
// configure for a cluster's external name. envtest's own serving certificate names only
// localhost and 127.0.0.1, and its CA key is not exposed, so a cluster registered under
// another name (one only an HTTP proxy resolves, say) needs this to be verified.
func WithNamedCertificate(names ...string) Option {
	return func(o *options) { o.namedCertificate = names }
}

// NamedCABundle is the PEM CA that signed the certificate of WithNamedCertificate, nil
// without it.
func (cp *ControlPlane) NamedCABundle() []byte { return cp.namedCA }

// addNamedCertificate writes the certificate of names to a new directory and adds it to the
// API server's arguments. It returns the CA and the directory, which Stop removes.
func addNamedCertificate(env *envtest.Environment, names []string) (ca []byte, dir string, err error) {
	ca, cert, key, err := netutil.ServingCertificate("named-certificate-ca", names...)
	if err != nil {
		return nil, "", err
	}
	if dir, err = os.MkdirTemp("", "ferry-named-certificate-"); err != nil {
		return nil, "", fmt.Errorf("create named certificate directory: %w", err)
	}
	certFile, keyFile := filepath.Join(dir, "named.crt"), filepath.Join(dir, "named.key")
	if err := os.WriteFile(certFile, cert, 0o600); err != nil {
		return nil, dir, fmt.Errorf("write named certificate: %w", err)
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		return nil, dir, fmt.Errorf("write named certificate key: %w", err)
	}
	// Without explicit domain patterns the API server serves it for the certificate's names.
	env.ControlPlane.GetAPIServer().Configure().Append("tls-sni-cert-key", certFile+","+keyFile)
	return ca, dir, nil
}
