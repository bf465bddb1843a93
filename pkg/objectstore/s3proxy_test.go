package objectstore

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/ferrymtc/ferry/test/netutil"
	"github.com/ferrymtc/ferry/test/s3"
)

// TestS3ProbeNamesTheProxyItWentThrough: a store the proxy cannot reach fails the test with
// the proxy named (host and port, not its password), since the answer is the proxy's, not
// the store's; a direct test names none.
func TestS3ProbeNamesTheProxyItWentThrough(t *testing.T) {
	srv := startS3(t, s3.Options{})
	endpoint, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy knows no such host: it answers 502 itself.
	proxy := netutil.StartProxy(t, nil)
	withPassword := *proxy.URL
	withPassword.User = url.UserPassword("ferry", "proxy-Pa55")
	// The operator's rules (settings.LiveProxy): loopback addresses go direct.
	rules := (&httpproxy.Config{HTTPProxy: withPassword.String()}).ProxyFunc()
	viaProxy := func(req *http.Request) (*url.URL, error) { return rules(req.URL) }
	cfg := configFor(srv)
	cfg.AwsS3URL = endpoint.Scheme + "://objects.nowhere.test:" + endpoint.Port()
	err = (Tester{RequestTimeout: 5 * time.Second, Proxy: viaProxy}).TestBucket(t.Context(), "aws", cfg, keysOf(srv))
	wantFailure(t, err, FailureRefused, "went through the proxy "+proxy.URL.Host, "proxy-Pa55")
	if !strings.Contains(err.Error(), "noProxy") {
		t.Errorf("the message does not say how to bypass the proxy: %v", err)
	}

	cfg = configFor(srv)
	cfg.AwsBucketName = "no-such-bucket"
	err = (Tester{Proxy: viaProxy}).TestBucket(t.Context(), "aws", cfg, keysOf(srv))
	if err == nil || strings.Contains(err.Error(), "through the proxy") {
		t.Errorf("a loopback store is tested directly, and its failure names no proxy: %v", err)
	}
}
