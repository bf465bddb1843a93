package clustercache_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/test/netutil"
)

// TestRemoteClusterThroughAProxy: a remote cluster whose name only an HTTP CONNECT proxy can
// resolve and reach (as behind a corporate proxy) is read through the proxy Options.Proxy
// names, by the client and by a clientset built from the cluster's REST config.
func TestRemoteClusterThroughAProxy(t *testing.T) {
	remote, ctx, _, cluster := startRemote(t, "proxied")
	api, err := url.Parse(remote.URL())
	if err != nil {
		t.Fatal(err)
	}
	// Only the proxy knows where this name is (.test never resolves).
	const name = "api.behind-proxy.test"
	proxy := netutil.StartProxy(t, map[string]string{name: "127.0.0.1"})
	cluster.Spec.URL = "https://" + name + ":" + api.Port()
	// The API server's certificate does not name the proxied host: insecure, as a user
	// registering a cluster by another name would need a caBundle for that name.
	cluster.Spec.Insecure, cluster.Spec.CABundle = true, nil

	direct := clustercache.New(clustercache.Options{SecretReader: remote.Client, Scheme: remote.Client.Scheme(), Log: logr.Discard()})
	c := mustGet(ctx, t, direct, cluster)
	if err := c.Get(ctx, client.ObjectKey{Name: "openshift-migration"}, &corev1.Namespace{}); err == nil {
		t.Fatal("the cluster was reached without the proxy; the test proves nothing")
	}

	proxied := clustercache.New(clustercache.Options{SecretReader: remote.Client, Scheme: remote.Client.Scheme(), Log: logr.Discard(),
		Proxy: http.ProxyURL(proxy.URL)})
	c = mustGet(ctx, t, proxied, cluster)
	if err := c.Get(ctx, client.ObjectKey{Name: "openshift-migration"}, &corev1.Namespace{}); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	cs, err := proxied.Clientset(ctx, cluster)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Fatalf("clientset through the proxy: %v", err)
	}
	if proxy.Requests() == 0 {
		t.Error("the proxy saw no CONNECT")
	}
}
