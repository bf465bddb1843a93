package transfer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"time"
)

// certValidity is how long the per-migration certificates are valid. A transfer that outlives
// it fails its TLS handshakes; a new DirectVolumeMigration gets new certificates.
const certValidity = 30 * 24 * time.Hour

// Credentials are what one migration's transfer needs: a CA made for it alone, a server and a
// client certificate it signed, and the rsync daemon password. They are generated once per
// migration and kept in a Secret on the host; the transfer Secrets on both clusters are built
// from them.
type Credentials struct {
	// CACert is the PEM certificate of the migration's CA; both stunnels trust only it.
	CACert []byte
	// ServerCert and ServerKey are the rsync server's stunnel identity (serverAuth only).
	ServerCert, ServerKey []byte
	// ClientCert and ClientKey are the rsync clients' stunnel identity (clientAuth only).
	ClientCert, ClientKey []byte
	// Password is the migration's rsync secret. It never leaves the host Secret: each pair of
	// a source and a destination namespace gets its own rsync user and a password derived
	// from it (Pair), so a client pod can write only into the volumes its namespace's PVCs
	// go to.
	Password string
}

// PairAuth is the rsync user and password of the transfers from one source namespace to one
// destination namespace.
type PairAuth struct {
	User, Password string
}

// PairUser is the rsync user of the transfers from source namespace src to destination
// namespace dst: a digest, so that any names give a plain token (rsyncd.conf, URLs).
func PairUser(src, dst string) string {
	sum := sha256.Sum256([]byte(src + "\x00" + dst))
	return RsyncUser + "-" + hex.EncodeToString(sum[:])[:16]
}

// Pair returns the rsync user and password of the pair (src, dst): the password is an
// HMAC-SHA256 of the pair keyed with the migration's secret, so it is stable across
// reconciles without being stored, and knowing one pair's password reveals nothing of
// another's.
func (c *Credentials) Pair(src, dst string) PairAuth {
	mac := hmac.New(sha256.New, []byte(c.Password))
	mac.Write([]byte("ferry rsync pair\x00" + src + "\x00" + dst))
	return PairAuth{User: PairUser(src, dst), Password: base64.RawURLEncoding.EncodeToString(mac.Sum(nil))}
}

// Keys of the host Secret that holds Credentials.
const (
	KeyCACert     = "ca.crt"
	KeyServerCert = "server.crt"
	KeyServerKey  = "server.key"
	KeyClientCert = "client.crt"
	KeyClientKey  = "client.key"
	KeyPassword   = "password"
)

// NewCredentials makes a CA for the migration named name, a server and a client certificate,
// and a random rsync password. The CA's private key is never stored: nothing else can ever be
// signed with it, so a certificate from another migration (another CA) is always refused.
func NewCredentials(name string, now time.Time) (*Credentials, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "ferry-transfer-ca " + name, Organization: []string{"Ferry"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	if caTmpl.SerialNumber, err = serial(); err != nil {
		return nil, err
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	c := &Credentials{CACert: pemBlock("CERTIFICATE", caDER)}
	if c.ServerCert, c.ServerKey, err = issue(ca, caKey, ServerName, x509.ExtKeyUsageServerAuth, now); err != nil {
		return nil, err
	}
	if c.ClientCert, c.ClientKey, err = issue(ca, caKey, "ferry-rsync-client", x509.ExtKeyUsageClientAuth, now); err != nil {
		return nil, err
	}
	if c.Password, err = randomPassword(); err != nil {
		return nil, err
	}
	return c, nil
}

// ServerName is the DNS name in the server certificate; clients check it (stunnel checkHost),
// whatever address they reach the server at.
const ServerName = "ferry-rsync-server"

// issue signs a leaf certificate for cn with a single extended key usage, so a client
// certificate cannot serve as a server certificate nor the reverse.
func issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, usage x509.ExtKeyUsage, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate %s key: %w", cn, err)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: []string{"Ferry"}},
		DNSNames:    []string{cn},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(certValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if tmpl.SerialNumber, err = serial(); err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("sign %s certificate: %w", cn, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode %s key: %w", cn, err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	return n, nil
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

// randomPassword returns 32 random bytes, base64url encoded (MTC used 6 letters).
func randomPassword() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("rsync password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Data returns the credentials as Secret data.
func (c *Credentials) Data() map[string][]byte {
	return map[string][]byte{
		KeyCACert: c.CACert, KeyServerCert: c.ServerCert, KeyServerKey: c.ServerKey,
		KeyClientCert: c.ClientCert, KeyClientKey: c.ClientKey, KeyPassword: []byte(c.Password),
	}
}

// CredentialsFrom reads credentials back from Secret data, refusing incomplete data.
func CredentialsFrom(data map[string][]byte) (*Credentials, error) {
	c := &Credentials{
		CACert: data[KeyCACert], ServerCert: data[KeyServerCert], ServerKey: data[KeyServerKey],
		ClientCert: data[KeyClientCert], ClientKey: data[KeyClientKey], Password: string(data[KeyPassword]),
	}
	var errs []error
	all := c.Data()
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if len(all[k]) == 0 {
			errs = append(errs, fmt.Errorf("key %s is missing", k))
		}
	}
	return c, errors.Join(errs...)
}
