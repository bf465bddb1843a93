package settings_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/scheme"
	"github.com/ferrymtc/ferry/pkg/settings"
)

func TestProxyEnv(t *testing.T) {
	s := settings.FromSpec(&migv1.MigrationControllerSpec{HTTPSProxy: "http://proxy:3128", NoProxy: ".svc,10.0.0.0/8"})
	got := map[string]string{}
	for _, e := range s.ProxyEnv() {
		got[e.Name] = e.Value
	}
	want := map[string]string{"HTTPS_PROXY": "http://proxy:3128", "https_proxy": "http://proxy:3128", "NO_PROXY": ".svc,10.0.0.0/8", "no_proxy": ".svc,10.0.0.0/8"}
	if len(got) != len(want) {
		t.Fatalf("env %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
	if env := settings.Defaults().ProxyEnv(); len(env) != 0 {
		t.Errorf("no proxy set, env %v", env)
	}
}

// TestLiveProxy: each request gets the proxy of the settings in force, noProxy and loopback
// addresses go direct, and a changed MigrationController applies without a restart.
func TestLiveProxy(t *testing.T) {
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: settings.PreferredName},
		Spec: migv1.MigrationControllerSpec{HTTPSProxy: "http://proxy-a:3128", NoProxy: "direct.example"}}
	c := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(mc).Build()
	p := settings.NewLiveProxy(settings.NewReader(c, "openshift-migration"))
	proxyOf := func(raw string) string {
		t.Helper()
		u, err := p.ForRequest(&http.Request{URL: mustURL(t, raw)})
		if err != nil {
			t.Fatal(err)
		}
		if u == nil {
			return "direct"
		}
		return u.Host
	}
	for target, want := range map[string]string{
		"https://api.remote.example:6443": "proxy-a:3128",
		"https://direct.example:6443":     "direct",
		"https://127.0.0.1:6443":          "direct",
		"http://plain.example":            "direct", // no httpProxy
	} {
		if got := proxyOf(target); got != want {
			t.Errorf("%s: %s, want %s", target, got, want)
		}
	}
	mc.Spec.HTTPSProxy = "http://proxy-b:3128"
	if err := c.Update(context.Background(), mc); err != nil {
		t.Fatal(err)
	}
	settings.ExpireLiveProxy(p)
	if got := proxyOf("https://api.remote.example:6443"); got != "proxy-b:3128" {
		t.Errorf("after the change: %s, want proxy-b:3128", got)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestProxyForRequest: the settings of one reconcile as a transport's Proxy, with noProxy.
func TestProxyForRequest(t *testing.T) {
	s := settings.FromSpec(&migv1.MigrationControllerSpec{HTTPProxy: "http://proxy:3128", NoProxy: ".storage.test"})
	proxy := s.ProxyForRequest()
	for target, want := range map[string]string{
		"http://objects.example:9000/bucket": "http://proxy:3128",
		"http://s3.storage.test:9000/bucket": "",
		"https://objects.example/bucket":     "",
	} {
		req, err := http.NewRequest(http.MethodGet, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := proxy(req)
		if err != nil {
			t.Fatal(err)
		}
		if (got == nil && want != "") || (got != nil && got.String() != want) {
			t.Errorf("proxy of %s = %v, want %q", target, got, want)
		}
	}
}
