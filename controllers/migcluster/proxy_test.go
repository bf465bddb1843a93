package migcluster_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/test/netutil"
)

var _ = Describe("A MigCluster behind an HTTP proxy", func() {
	It("is checked through the MigrationController's httpsProxy, API server and registry route alike, once it is set", func() {
		registry := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://`+r.Host+`/openshift/token"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer registry.Close()
		api, err := url.Parse(source.URL())
		Expect(err).NotTo(HaveOccurred())
		reg, err := url.Parse(registry.URL)
		Expect(err).NotTo(HaveOccurred())
		// Only the proxy knows where these names are (.test never resolves).
		const apiName, registryName = "api.behind-proxy.test", "registry.behind-proxy.test"
		proxy := netutil.StartProxy(GinkgoT(), map[string]string{apiName: "127.0.0.1", registryName: "127.0.0.1"})

		c := remoteCluster(tokenSecret(mintToken("cluster-admin")), func(s *migv1.MigClusterSpec) {
			s.URL = "https://" + apiName + ":" + api.Port()
			s.ExposedRegistryPath = registryName + ":" + reg.Port()
			// Neither certificate names its proxied host (controllers/migcluster checks
			// verification on its own); the test is about the route the checks take.
			s.CABundle, s.Insecure = nil, true
		})
		Eventually(condition(c, migv1.TestConnectFailed)).Should(beCritical("ConnectFailed"))

		mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: settings.PreferredName},
			Spec: migv1.MigrationControllerSpec{HTTPSProxy: proxy.URL.String()}}
		Expect(destination.Client.Create(ctx, mc)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(destination.Client.Delete(ctx, mc))).To(Succeed()) })
		// A failing cluster is checked again every 15 seconds; the proxy settings are read
		// every few seconds.
		Eventually(condition(c, migv1.Ready)).WithTimeout(time.Minute).Should(beReady)
		Expect(proxy.Requests()).To(BeNumerically(">=", 2), "the API server's check and the registry's went through the proxy")
	})
})
