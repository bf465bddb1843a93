package tunnel

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// ServerName is the identity the server certificate names and the client verifies: the
// server is reached at whatever address its LoadBalancer or NodePort has, so the identity
// cannot be an address.
const ServerName = "ferry-tunnel-server"

// Keys of the credentials in a Secret (kubernetes.io/tls plus the CA) and file names in the
// agent's mounted directory.
const (
	CAKey   = "ca.crt"
	CertKey = "tls.crt"
	KeyKey  = "tls.key"
)

// Credentials are one side's PEM-encoded certificate and key, and the tunnel's CA.
type Credentials struct {
	CA, Cert, Key []byte
}

// Data is the credentials as a Secret's data.
func (c Credentials) Data() map[string][]byte {
	return map[string][]byte{CAKey: c.CA, CertKey: c.Cert, KeyKey: c.Key}
}

// NewCredentials makes a CA for one tunnel and issues the server's and the client's
// certificates from it, valid for validity from now. The CA's key is discarded: nothing else
// is ever issued from it, so no one can join the tunnel later.
func NewCredentials(now time.Time, validity time.Duration) (server, client Credentials, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return server, client, fmt.Errorf("generate the tunnel CA key: %w", err)
	}
	caTemplate := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "ferry-tunnel-ca"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caCert, caDER, err := issue(caTemplate, nil, caKey)
	if err != nil {
		return server, client, fmt.Errorf("issue the tunnel CA: %w", err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	leaf := func(name string, usage x509.ExtKeyUsage, dnsNames []string) (Credentials, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return Credentials{}, fmt.Errorf("generate the %s key: %w", name, err)
		}
		_, der, err := issue(&x509.Certificate{
			Subject:     pkix.Name{CommonName: name},
			DNSNames:    dnsNames,
			NotBefore:   now.Add(-time.Minute),
			NotAfter:    now.Add(validity),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}, &issuer{cert: caCert, key: caKey}, key)
		if err != nil {
			return Credentials{}, fmt.Errorf("issue the %s certificate: %w", name, err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return Credentials{}, fmt.Errorf("encode the %s key: %w", name, err)
		}
		return Credentials{
			CA:   caPEM,
			Cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			Key:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		}, nil
	}
	if server, err = leaf(ServerName, x509.ExtKeyUsageServerAuth, []string{ServerName}); err != nil {
		return server, client, err
	}
	client, err = leaf("ferry-tunnel-client", x509.ExtKeyUsageClientAuth, nil)
	return server, client, err
}

type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// issue signs template for key's public half, by parent (self-signed when nil).
func issue(template *x509.Certificate, parent *issuer, key *ecdsa.PrivateKey) (*x509.Certificate, []byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	template.SerialNumber = serial
	signer, signerCert := key, template
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, template, signerCert, &key.PublicKey, signer)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, der, err
}

// ServerTLS is the server agent's TLS configuration: TLS 1.3, a client certificate of the
// tunnel's CA required.
func (c Credentials) ServerTLS() (*tls.Config, error) {
	return c.tlsConfig(func(cfg *tls.Config, pool *x509.CertPool) {
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	})
}

// ClientTLS is the client agent's TLS configuration: TLS 1.3, only the tunnel's server
// (ServerName, issued by the tunnel's CA) accepted.
func (c Credentials) ClientTLS() (*tls.Config, error) {
	return c.tlsConfig(func(cfg *tls.Config, pool *x509.CertPool) {
		cfg.RootCAs, cfg.ServerName = pool, ServerName
	})
}

// tlsConfig is TLS 1.3 with the side's certificate; side sets how the peer is verified
// against the tunnel's CA.
func (c Credentials) tlsConfig(side func(*tls.Config, *x509.CertPool)) (*tls.Config, error) {
	cert, pool, err := c.parse()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}
	side(cfg, pool)
	return cfg, nil
}

func (c Credentials) parse() (tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.X509KeyPair(c.Cert, c.Key)
	if err != nil {
		return cert, nil, fmt.Errorf("tunnel certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CA) {
		return cert, nil, errors.New("tunnel CA: no certificate in PEM")
	}
	return cert, pool, nil
}

// ReadCredentials reads the files CAKey, CertKey and KeyKey of dir (a mounted Secret).
func ReadCredentials(dir string) (Credentials, error) {
	var c Credentials
	for _, f := range []struct {
		name string
		to   *[]byte
	}{{CAKey, &c.CA}, {CertKey, &c.Cert}, {KeyKey, &c.Key}} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return c, fmt.Errorf("read tunnel credentials: %w", err)
		}
		*f.to = b
	}
	return c, nil
}
