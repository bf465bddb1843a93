package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ferrymtc/ferry/pkg/console"
	"github.com/ferrymtc/ferry/pkg/operator"
)

// consoleCommand runs the web console instead of the operator: the same image ships both, so
// a cluster mirrors one image, and the console runs as its own Deployment (config/console)
// with its own ServiceAccount, bound to nothing, rather than inside the operator's pod with
// the operator's privileges.
const consoleCommand = "console"

func runConsole(args []string) {
	fs := flag.NewFlagSet(consoleCommand, flag.ExitOnError)
	addr := fs.String("bind-address", ":9443", "Address the console serves HTTPS on.")
	namespace := fs.String("namespace", envOr("POD_NAMESPACE", operator.DefaultNamespace), "Namespace of the migration objects.")
	server := fs.String("api-server", "", "URL of the API server (default: the in-cluster https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT).")
	caFile := fs.String("api-ca-file", "/etc/ferry-console/ca/ca.crt", "CA bundle of the API server (the kube-root-ca.crt ConfigMap, mounted).")
	certFile := fs.String("tls-cert-file", "", "Serving certificate (PEM); a self-signed one is made when empty.")
	keyFile := fs.String("tls-key-file", "", "Key of the serving certificate (PEM).")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	_ = fs.Parse(args)
	log := zap.New(zap.UseFlagOptions(&zapOpts)).WithName("console")
	ctrl.SetLogger(log)

	cfg, err := consoleConfig(*server, *caFile)
	if err == nil {
		err = serveConsole(ctrl.SetupSignalHandler(), cfg, *namespace, *addr, *certFile, *keyFile, log.Info)
	}
	if err != nil {
		log.Error(err, "The console stopped")
		os.Exit(1)
	}
}

// consoleConfig is where the API server is and which CA signs it: no credentials, since the
// console sends each user's own token (its ServiceAccount token is not even mounted).
func consoleConfig(server, caFile string) (*rest.Config, error) {
	if server == "" {
		host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
		if host == "" || port == "" {
			return nil, errors.New("--api-server is required outside a cluster")
		}
		server = "https://" + net.JoinHostPort(host, port)
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read the API server's CA bundle: %w", err)
	}
	return &rest.Config{Host: server, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}, nil
}

func serveConsole(ctx context.Context, cfg *rest.Config, namespace, addr, certFile, keyFile string, info func(string, ...any)) error {
	handler, err := console.New(console.Options{Config: cfg, Namespace: namespace, Log: ctrl.Log.WithName("console")})
	if err != nil {
		return err
	}
	var cert tls.Certificate
	if certFile != "" {
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	} else {
		cert, err = selfSigned()
	}
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	srv := &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	info("Serving the console", "address", addr, "apiServer", cfg.Host, "namespace", namespace)
	if err := srv.ListenAndServeTLS("", ""); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// selfSigned makes a serving certificate for a console without one (behind a Route with
// re-encrypt or a port-forward, the browser is told to trust it once).
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "ferry-console"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"ferry-console", "localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
