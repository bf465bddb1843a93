package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/test/controlplane"
)

// InternalHost is the internal registry's address inside a cluster, the same on every
// cluster as in OpenShift (the image-registry Service of openshift-image-registry): the host of
// ImageStreams' status.dockerImageRepository and of the image references pods use.
const InternalHost = "image-registry.openshift-image-registry.svc:5000"

const (
	// DefaultResyncInterval is how often every ImageStream is resynced when
	// Options.ResyncInterval is zero.
	DefaultResyncInterval = 2 * time.Second
	// AdminNamespace is the namespace of AdminServiceAccount.
	AdminNamespace = "openshift-image-registry"
	// AdminServiceAccount is the ServiceAccount (bound to cluster-admin) whose token the
	// helpers of this package push and pull with (AdminToken).
	AdminServiceAccount = "registry-admin"
)

// Options configures Start.
type Options struct {
	// Name identifies the registry in logs and directory names, usually the cluster's name;
	// the control plane's name when empty.
	Name string
	// Logf receives the registry's diagnostics (refused tokens, denied requests, image
	// controller errors); nil discards them.
	Logf func(format string, args ...any)
	// NoAuth serves every request without checking credentials (for benchmarks: no
	// TokenReview or SubjectAccessReview on the path).
	NoAuth bool
	// ResyncInterval is how often the image controller resyncs every ImageStream besides
	// reacting to push events; DefaultResyncInterval when zero.
	ResyncInterval time.Duration
}

// Registry is a running internal image registry of one cluster: the distribution registry
// process, the HTTPS front that authenticates and authorizes like OpenShift's registry, and
// the image controller that keeps ImageStreams in step (see the package documentation).
type Registry struct {
	// InternalHost is the registry's in-cluster address (the InternalHost constant).
	InternalHost string
	// Address is the HTTPS front's 127.0.0.1:port: the exposed registry path (what a
	// MigCluster's spec.exposedRegistryPath names) and the address test clients push to.
	Address string
	// CAPEM is the PEM CA that signed the front's certificate (valid for 127.0.0.1,
	// localhost and InternalHost's name).
	CAPEM []byte

	name       string
	logf       func(string, ...any)
	proc       *process
	front      *front
	controller *imageController
	adminToken string

	transportOnce sync.Once
	transport     *http.Transport

	stopOnce sync.Once
}

// Start installs the ImageStream API on cp's cluster, runs the registry process, its HTTPS
// front and the image controller, and returns once the front answers. Call Stop when done; a
// failed Start has already stopped what it started (the CRD stays).
func Start(ctx context.Context, cp *controlplane.ControlPlane, opts Options) (_ *Registry, err error) {
	r := &Registry{InternalHost: InternalHost, name: opts.Name, logf: opts.Logf}
	if r.name == "" {
		r.name = cp.Name
	}
	if r.logf == nil {
		r.logf = func(string, ...any) {}
	}
	interval := opts.ResyncInterval
	if interval <= 0 {
		interval = DefaultResyncInterval
	}
	defer func() {
		if err != nil {
			_ = r.Stop()
		}
	}()
	// Clients of its own: the admin clients of cp share one client-side rate limit (5
	// requests a second) with whatever else the test does, and reviews and status writes
	// must not queue behind a test's polling.
	cfg := rest.CopyConfig(cp.Config)
	cfg.QPS, cfg.Burst = 100, 200
	c, err := client.New(cfg, client.Options{Scheme: cp.Client.Scheme()})
	if err != nil {
		return nil, fmt.Errorf("registry %s: client: %w", r.name, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("registry %s: client: %w", r.name, err)
	}
	if err := InstallImageStreamAPI(ctx, c); err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.name, err)
	}
	if r.adminToken, err = cp.MintToken(ctx, AdminNamespace, AdminServiceAccount, "cluster-admin"); err != nil {
		return nil, fmt.Errorf("registry %s: admin token: %w", r.name, err)
	}
	if r.controller, err = newImageController(r.name, c, interval, r.logf); err != nil {
		return nil, err
	}
	if r.proc, err = startProcess(r.name, r.controller.eventURL); err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.name, err)
	}
	tlsMat, err := newServing(r.name)
	if err != nil {
		return nil, err
	}
	r.CAPEM = tlsMat.caPEM
	if r.front, err = startFront(r.name, cs, r.proc.addr, tlsMat, opts.NoAuth, r.logf); err != nil {
		return nil, err
	}
	r.Address = r.front.addr
	r.controller.run(r.proc.addr, r.Address)
	if err := r.waitFront(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// waitFront checks that the front serves the registry API with the admin token.
func (r *Registry) waitFront(ctx context.Context) error {
	deadline := time.Now().Add(startTimeout)
	for {
		err := r.ping(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("registry %s: the front on %s does not serve: %w", r.name, r.Address, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ping GETs /v2/ through the front with the admin token.
func (r *Registry) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+r.Address+"/v2/", nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth("admin", r.adminToken)
	resp, err := (&http.Client{Transport: r.Transport()}).Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v2/ answered %s", resp.Status)
	}
	return nil
}

// Stop stops the image controller, the front and the registry process, and removes the
// registry's storage (kept with its log when FERRY_KEEP_LOGS=1). It is safe to call more than
// once and after a failed Start.
func (r *Registry) Stop() error {
	r.stopOnce.Do(func() {
		if r.controller != nil {
			r.controller.stop()
		}
		if r.front != nil {
			r.front.close()
		}
		if r.proc != nil {
			if kept := r.proc.stop(); kept != "" {
				r.logf("registry %s: kept its directory %s (%s=1)", r.name, kept, keepLogsEnv)
			}
		}
		if r.transport != nil {
			r.transport.CloseIdleConnections()
		}
	})
	return nil
}

// Name is the registry's name (Options.Name).
func (r *Registry) Name() string { return r.name }

// AdminToken is a token of a cluster-admin ServiceAccount of the registry's cluster
// (AdminNamespace/AdminServiceAccount), which the front accepts for every repository.
func (r *Registry) AdminToken() string { return r.adminToken }

// Transport is an HTTP transport that trusts the registry's CA, shared by the helpers.
func (r *Registry) Transport() *http.Transport {
	r.transportOnce.Do(func() { r.transport = clientTransport(r.CAPEM) })
	return r.transport
}

// LogTail returns the whole lines among the last n bytes of the registry process's log.
func (r *Registry) LogTail(n int) string {
	if r.proc == nil {
		return ""
	}
	return r.proc.logTail(n)
}

// Repository is the reference of repository (<namespace>/<name>) at the registry's exposed
// address, as clients outside the cluster push to it.
func (r *Registry) Repository(repository string) string { return r.Address + "/" + repository }

// InternalRepository is the reference of repository at InternalHost, as pods and ImageStreams
// name it.
func (r *Registry) InternalRepository(repository string) string {
	return InternalHost + "/" + repository
}

// Resync asks the image controller to sync the ImageStream of repository now (it does anyway
// within the resync interval).
func (r *Registry) Resync(repository string) {
	r.controller.mu.Lock()
	if _, queued := r.controller.pending[repository]; !queued {
		r.controller.pending[repository] = false
	}
	r.controller.mu.Unlock()
	r.controller.wake()
}

// Err is a summary of the image controller's current errors, nil when it has none.
func (r *Registry) Err() error {
	r.controller.mu.Lock()
	defer r.controller.mu.Unlock()
	var msgs []string
	for repo, msg := range r.controller.lastErr {
		if msg != "" {
			msgs = append(msgs, repo+": "+msg)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "; "))
}
