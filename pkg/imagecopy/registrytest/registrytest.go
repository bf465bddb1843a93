// Package registrytest runs CNCF distribution registries (the pinned one hack/build-registry.sh
// builds into bin/registry) on loopback for tests and benchmarks of image copies: filesystem
// storage in a directory of the caller's, plain HTTP or TLS with a certificate authority made
// for the registry, and optionally htpasswd authentication.
//
// It is a package of its own, not a _test file, because make bench-image starts the same
// registries as pkg/imagecopy's tests.
package registrytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferrymtc/ferry/test/netutil"
)

// startTimeout bounds the wait for a registry to answer.
const startTimeout = 20 * time.Second

// Options configure a registry.
type Options struct {
	// Binary is the registry executable (Binary finds the pinned one).
	Binary string
	// Dir holds the registry's configuration, storage and log; it must exist.
	Dir string
	// TLS serves HTTPS with a certificate for 127.0.0.1 signed by a CA of its own (CA).
	TLS bool
	// Htpasswd, when set, is the content of an htpasswd file (bcrypt entries): the registry
	// then requires those users (basic authentication).
	Htpasswd []byte
}

// Registry is a running registry.
type Registry struct {
	// Host is its 127.0.0.1:port.
	Host string
	// Storage is the root directory of its filesystem storage.
	Storage string
	// CA is the PEM certificate of the CA that signed its certificate (TLS only).
	CA []byte
	// Log is the file its output goes to.
	Log string

	cmd  *exec.Cmd
	done chan struct{}
}

// Binary returns the pinned registry executable of the repository that holds dir (or one of
// its parents), and false when it is not built (make registry).
func Binary(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			bin := filepath.Join(dir, "bin", "registry", "registry")
			if fi, err := os.Stat(bin); err == nil && !fi.IsDir() {
				return bin, true
			}
			return bin, false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Start starts a registry and waits until it answers.
func Start(ctx context.Context, o Options) (*Registry, error) {
	var lastErr error
	// A free port is found by listening and closing; another process may take it before the
	// registry binds it, so a failed start is tried again on another port.
	for range 3 {
		r, err := start(ctx, o)
		if err == nil {
			return r, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(ctx context.Context, o Options) (*Registry, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &Registry{Host: fmt.Sprintf("127.0.0.1:%d", port), Storage: filepath.Join(o.Dir, "storage"), Log: filepath.Join(o.Dir, "registry.log")}
	if err := os.MkdirAll(r.Storage, 0o755); err != nil {
		return nil, err
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: registrytest
`, r.Storage, r.Host)
	if o.TLS {
		certFile, keyFile, ca, err := writeCertificates(o.Dir)
		if err != nil {
			return nil, err
		}
		r.CA = ca
		config += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", certFile, keyFile)
	}
	if o.Htpasswd != nil {
		path := filepath.Join(o.Dir, "htpasswd")
		if err := os.WriteFile(path, o.Htpasswd, 0o600); err != nil {
			return nil, err
		}
		config += fmt.Sprintf("auth:\n  htpasswd:\n    realm: registrytest\n    path: %s\n", path)
	}
	configFile := filepath.Join(o.Dir, "config.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		return nil, err
	}
	log, err := os.Create(r.Log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = log.Close() }()
	// Not tied to ctx: the registry lives until Stop, not until the start's deadline.
	r.cmd = exec.Command(o.Binary, "serve", configFile) //nolint:gosec // the pinned registry binary.
	r.cmd.Stdout, r.cmd.Stderr = log, log
	// No REGISTRY_* variable of the caller's environment overrides the configuration.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			r.cmd.Env = append(r.cmd.Env, kv)
		}
	}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Binary, err)
	}
	r.done = make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	if err := r.wait(ctx); err != nil {
		r.Stop()
		out, _ := os.ReadFile(r.Log)
		return nil, fmt.Errorf("registry on %s: %w; its log: %s", r.Host, err, out)
	}
	return r, nil
}

// wait polls /v2/ until the registry answers (200, or 401 with authentication).
func (r *Registry) wait(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	if r.CA != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(r.CA)
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL()+"/v2/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case <-r.done:
			return errors.New("exited")
		case <-ctx.Done():
			return fmt.Errorf("not answering after %s (last: %w)", startTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL is the registry's base URL.
func (r *Registry) URL() string {
	if r.CA != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// Stop stops the registry and waits for it to exit.
func (r *Registry) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// freePort is a port for a registry, picked where tests listening on port 0 do not pick theirs
// (see netutil.FreeLoopbackAddr): pkg/transfer's tests run beside these.
func freePort() (int, error) { return netutil.FreeLoopbackPort() }

// writeCertificates makes a CA and a certificate for 127.0.0.1 signed by it, writes the
// certificate and its key into dir, and returns their paths and the CA's PEM.
func writeCertificates(dir string) (certFile, keyFile string, caPEM []byte, err error) {
	caPEM, certPEM, keyPEM, err := netutil.ServingCertificate("ferry-imagecopy-test-ca")
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", nil, err
	}
	return certFile, keyFile, caPEM, nil
}
