package s3

import (
	"crypto/tls"
	"crypto/x509"
)

// tlsConfig trusts caPEM when given; nil means the system roots (plain HTTP ignores it).
func tlsConfig(caPEM []byte) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		cfg.RootCAs = pool
	}
	return cfg
}
