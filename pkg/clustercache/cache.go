package clustercache

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

const (
	// RequestTimeout bounds every request to a remote API server.
	RequestTimeout = 15 * time.Second
	// remoteQPS and remoteBurst match MTC's remote clients.
	remoteQPS   = 100
	remoteBurst = 1000
	// cacheSyncTimeout bounds how long a first read waits for a remote informer to sync.
	cacheSyncTimeout = 30 * time.Second
)

// Options configures a Cache.
type Options struct {
	// HostConfig is the operator's own REST config, used for host MigClusters.
	HostConfig *rest.Config
	// HostClient is the operator's own client (usually the manager's cached client).
	HostClient client.Client
	// SecretReader reads MigCluster token Secrets (usually the manager's API reader).
	SecretReader client.Reader
	// Scheme is the scheme of the clients handed out.
	Scheme *runtime.Scheme
	// UseInformerCache says, on each Get, whether remote clients read through an informer
	// cache (MigrationController's mig_controller_enable_cache). Nil means never.
	UseInformerCache func(context.Context) bool
	// Log receives cache lifecycle messages.
	Log logr.Logger
	// Proxy picks the proxy of each request to a remote API server (the MigrationController's
	// httpProxy, httpsProxy and noProxy, read live); nil connects directly.
	Proxy func(*http.Request) (*url.URL, error)
}

// Cache hands out clients for MigClusters. It is safe for concurrent use.
type Cache struct {
	opts    Options
	mu      sync.Mutex
	entries map[types.NamespacedName]*entry
}

type entry struct {
	fingerprint string
	cached      bool
	config      *rest.Config
	client      client.Client
	stop        context.CancelFunc // stops the informer cache, if any
}

// New returns an empty Cache.
func New(opts Options) *Cache {
	if opts.UseInformerCache == nil {
		opts.UseInformerCache = func(context.Context) bool { return false }
	}
	return &Cache{opts: opts, entries: map[types.NamespacedName]*entry{}}
}

// Get returns a client for the cluster: the host client for host clusters, else a client built
// from the cluster's current URL, token, CA and insecure flag, reused while they are unchanged.
func (c *Cache) Get(ctx context.Context, cluster *migv1.MigCluster) (client.Client, error) {
	if cluster.Spec.IsHostCluster {
		return c.opts.HostClient, nil
	}
	e, err := c.entry(ctx, cluster)
	if err != nil {
		return nil, err
	}
	return e.client, nil
}

// RESTConfig returns the REST config for the cluster (a copy; callers may change it).
func (c *Cache) RESTConfig(ctx context.Context, cluster *migv1.MigCluster) (*rest.Config, error) {
	if cluster.Spec.IsHostCluster {
		return rest.CopyConfig(c.opts.HostConfig), nil
	}
	e, err := c.entry(ctx, cluster)
	if err != nil {
		return nil, err
	}
	return rest.CopyConfig(e.config), nil
}

// Clientset returns a clientset for the cluster, for what controller-runtime's client does not
// offer (pod logs, the node proxy).
func (c *Cache) Clientset(ctx context.Context, cluster *migv1.MigCluster) (kubernetes.Interface, error) {
	cfg, err := c.RESTConfig(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("config for cluster %s: %w", cluster.Name, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("clientset for cluster %s: %w", cluster.Name, err)
	}
	return cs, nil
}

// Forget drops the entry of a deleted cluster and stops its informer cache.
func (c *Cache) Forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		e.close()
		delete(c.entries, key)
	}
}

// Len returns the number of remote clusters with a live entry.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *Cache) entry(ctx context.Context, cluster *migv1.MigCluster) (*entry, error) {
	access, err := AccessFor(ctx, c.opts.SecretReader, cluster)
	if err != nil {
		return nil, err
	}
	key := types.NamespacedName{Namespace: cluster.Namespace, Name: cluster.Name}
	wantCached := c.opts.UseInformerCache(ctx)
	fp := access.fingerprint()

	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		if e.fingerprint == fp && e.cached == wantCached {
			return e, nil
		}
		c.opts.Log.Info("Cluster access changed, rebuilding its client", "migCluster", key)
		e.close()
		delete(c.entries, key)
	}
	e, err := c.build(access, wantCached)
	if err != nil {
		return nil, fmt.Errorf("build client for MigCluster %s: %w", key, err)
	}
	e.fingerprint = fp
	c.entries[key] = e
	return e, nil
}

func (c *Cache) build(access Access, cached bool) (*entry, error) {
	cfg := RESTConfigFor(access)
	cfg.Proxy = c.opts.Proxy
	e := &entry{config: cfg, cached: cached}
	opts := client.Options{Scheme: c.opts.Scheme}
	if cached {
		informers, err := cache.New(cfg, cache.Options{Scheme: c.opts.Scheme, ReaderFailOnMissingInformer: false})
		if err != nil {
			return nil, fmt.Errorf("create informer cache: %w", err)
		}
		// The informer cache outlives the reconcile that created it; it is stopped by
		// entry.close when the access changes or the cluster is forgotten.
		runCtx, stop := context.WithCancel(context.Background())
		go func() {
			if err := informers.Start(runCtx); err != nil {
				c.opts.Log.Error(err, "Remote informer cache stopped")
			}
		}()
		e.stop = stop
		opts.Cache = &client.CacheOptions{Reader: &syncBoundedReader{Cache: informers}}
	}
	cl, err := client.New(cfg, opts)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("create client: %w", err)
	}
	e.client = cl
	return e, nil
}

func (e *entry) close() {
	if e.stop != nil {
		e.stop()
	}
}

// RESTConfigFor builds the REST config of a remote cluster.
func RESTConfigFor(a Access) *rest.Config {
	cfg := &rest.Config{
		Host:        a.URL,
		BearerToken: a.Token,
		QPS:         remoteQPS,
		Burst:       remoteBurst,
		Timeout:     RequestTimeout,
	}
	if a.Insecure {
		cfg.Insecure = true
	} else {
		cfg.CAData = a.CAData
	}
	return cfg
}

// syncBoundedReader bounds how long a read may wait for a new informer to sync, so that a
// remote cluster that stops answering cannot hang a reconcile.
type syncBoundedReader struct{ cache.Cache }

func (r *syncBoundedReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	ctx, cancel := context.WithTimeout(ctx, cacheSyncTimeout)
	defer cancel()
	return r.Cache.Get(ctx, key, obj, opts...)
}

func (r *syncBoundedReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	ctx, cancel := context.WithTimeout(ctx, cacheSyncTimeout)
	defer cancel()
	return r.Cache.List(ctx, list, opts...)
}
