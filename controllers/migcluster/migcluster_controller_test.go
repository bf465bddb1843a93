package migcluster_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/permissions"
	"github.com/ferrymtc/ferry/test/install"
)

// names gives each spec its own objects.
var seq int

func uniqueName(prefix string) string {
	seq++
	return fmt.Sprintf("%s-%d", prefix, seq)
}

// tokenSecret stores token under saToken in a new Secret on the destination (host) cluster.
func tokenSecret(token string) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-config", Name: uniqueName("sa-token")},
		Data:       map[string][]byte{migv1.SaTokenKey: []byte(token)},
	}
	_ = destination.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "openshift-config"}})
	Expect(destination.Client.Create(ctx, s)).To(Succeed())
	return s
}

func remoteCluster(secret *corev1.Secret, mutate ...func(*migv1.MigClusterSpec)) *migv1.MigCluster {
	c := &migv1.MigCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: uniqueName("source")},
		Spec:       migv1.MigClusterSpec{URL: source.URL(), CABundle: source.CABundle()},
	}
	if secret != nil {
		c.Spec.ServiceAccountSecretRef = &corev1.ObjectReference{Namespace: secret.Namespace, Name: secret.Name}
	}
	for _, m := range mutate {
		m(&c.Spec)
	}
	Expect(destination.Client.Create(ctx, c)).To(Succeed())
	return c
}

// mintToken returns a token of a new ServiceAccount on the source bound to clusterRole.
func mintToken(clusterRole string) string {
	token, err := source.MintToken(ctx, "openshift-migration", uniqueName("migration-controller"), clusterRole)
	Expect(err).NotTo(HaveOccurred())
	return token
}

// condition returns a function that reads the cluster's condition of the given type.
func condition(c *migv1.MigCluster, conditionType string) func() *migv1.Condition {
	return func() *migv1.Condition {
		got := &migv1.MigCluster{}
		if err := destination.Client.Get(ctx, client.ObjectKeyFromObject(c), got); err != nil {
			return nil
		}
		return conditions.Find(got.Status.Conditions, conditionType)
	}
}

// beCritical matches a True, Critical condition with the given reason.
func beCritical(reason string) OmegaMatcher {
	return And(Not(BeNil()), HaveField("Status", migv1.True), HaveField("Category", migv1.CategoryCritical), HaveField("Reason", reason))
}

var beReady = And(Not(BeNil()), HaveField("Status", migv1.True), HaveField("Message", "The cluster is ready."))

var _ = Describe("MigCluster", func() {
	It("makes the host cluster Ready without a URL or token", func() {
		c := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "host"}, Spec: migv1.MigClusterSpec{IsHostCluster: true}}
		Expect(destination.Client.Create(ctx, c)).To(Succeed())
		Eventually(condition(c, migv1.Ready)).Should(beReady)
	})

	It("makes a remote cluster with a privileged token and its CA Ready", func() {
		c := remoteCluster(tokenSecret(mintToken("cluster-admin")))
		Eventually(condition(c, migv1.Ready)).Should(beReady)
	})

	It("reports a wrong token as Unauthorized, and picks up a rotated token without a restart", func() {
		secret := tokenSecret("not-a-valid-token")
		c := remoteCluster(secret)
		Eventually(condition(c, migv1.InvalidSaToken)).Should(beCritical("Unauthorized"))
		Expect(condition(c, migv1.Ready)()).To(BeNil())

		good := mintToken("cluster-admin")
		secret.Data[migv1.SaTokenKey] = []byte(good)
		Expect(destination.Client.Update(ctx, secret)).To(Succeed())
		// The Secret watch triggers a reconcile at once; well under the not-ready recheck.
		Eventually(condition(c, migv1.Ready), 10*time.Second).Should(beReady)
		Expect(condition(c, migv1.InvalidSaToken)()).To(BeNil())
	})

	It("reports a missing Secret, a missing key, an empty key and a missing reference", func() {
		missing := remoteCluster(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-config", Name: "does-not-exist"}})
		Eventually(condition(missing, migv1.InvalidSaSecretRef)).Should(And(beCritical("NotFound"),
			HaveField("Message", ContainSubstring("openshift-config/does-not-exist"))))

		noKey := tokenSecret("x")
		delete(noKey.Data, migv1.SaTokenKey)
		noKey.Data["token"] = []byte("x")
		Expect(destination.Client.Update(ctx, noKey)).To(Succeed())
		Eventually(condition(remoteCluster(noKey), migv1.InvalidSaToken)).Should(beCritical("NotFound"))

		Eventually(condition(remoteCluster(tokenSecret(" \n")), migv1.InvalidSaToken)).Should(beCritical("NotSet"))
		Eventually(condition(remoteCluster(nil), migv1.InvalidSaSecretRef)).Should(beCritical("NotSet"))
	})

	It("refuses a token Secret outside its own namespace and openshift-config, without using it", func() {
		Expect(destination.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant"}})).To(Succeed())
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: "admin-token"},
			Data: map[string][]byte{migv1.SaTokenKey: []byte(mintToken("cluster-admin"))}}
		Expect(destination.Client.Create(ctx, secret)).To(Succeed())
		c := remoteCluster(secret)
		Eventually(condition(c, migv1.InvalidSaSecretRef)).Should(And(beCritical(migv1.NotSupported),
			HaveField("Message", And(ContainSubstring(`"tenant"`), ContainSubstring(`"`+opNamespace+`"`), ContainSubstring(`"openshift-config"`)))))
		Consistently(condition(c, migv1.Ready), 3*time.Second).Should(BeNil())
	})

	It("reports a missing or malformed URL", func() {
		secret := tokenSecret("x")
		Eventually(condition(remoteCluster(secret, func(s *migv1.MigClusterSpec) { s.URL = "" }), migv1.InvalidURL)).
			Should(beCritical("NotSet"))
		Eventually(condition(remoteCluster(secret, func(s *migv1.MigClusterSpec) { s.URL = "ftp://example.com" }), migv1.InvalidURL)).
			Should(beCritical("InvalidScheme"))
		Eventually(condition(remoteCluster(secret, func(s *migv1.MigClusterSpec) { s.URL = "https://" }), migv1.InvalidURL)).
			Should(beCritical("Malformed"))
	})

	It("reports an unreachable URL as TestConnectFailed within seconds", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		closedURL := "https://" + l.Addr().String()
		Expect(l.Close()).To(Succeed())
		c := remoteCluster(tokenSecret(mintToken("cluster-admin")), func(s *migv1.MigClusterSpec) { s.URL = closedURL })
		Eventually(condition(c, migv1.TestConnectFailed), 5*time.Second).Should(And(beCritical("ConnectFailed"),
			HaveField("Message", ContainSubstring("connection refused"))))
	})

	It("reports a token without rights as SaTokenNotPrivileged, naming what each side lacks", func() {
		c := remoteCluster(tokenSecret(mintToken("")))
		Eventually(condition(c, migv1.SaTokenNotPrivileged)).Should(And(beCritical("Forbidden"),
			HaveField("Message", And(ContainSubstring("As a source it lacks: get pods"),
				ContainSubstring("As a destination it lacks: get pods"), ContainSubstring("ferry-remote-source")))))
		Expect(condition(c, migv1.Ready)()).To(BeNil())
	})

	It("makes a cluster whose token has only the source role Ready for plans that leave it, warning what a destination needs", func() {
		_, err := install.BuildAndApply(ctx, source.Client, "config/rbac/remote")
		Expect(err).NotTo(HaveOccurred())
		c := remoteCluster(tokenSecret(mintToken(permissions.SourceRole)))
		Eventually(condition(c, migv1.Ready)).Should(beReady)
		Expect(condition(c, migv1.NotPrivilegedAsDestination)()).To(And(Not(BeNil()), HaveField("Category", migv1.CategoryWarn),
			HaveField("Message", And(ContainSubstring("create restores.velero.io"), ContainSubstring("ferry-remote-destination")))))
		Expect(condition(c, migv1.NotPrivilegedAsSource)()).To(BeNil())
	})

	It("names the one permission a source role without it lacks", func() {
		_, err := install.BuildAndApply(ctx, source.Client, "config/rbac/remote")
		Expect(err).NotTo(HaveOccurred())
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("source-without-backups")}}
		for _, r := range permissions.SourceRules {
			if !slices.Contains(r.Resources, "backups") {
				role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: r.Groups, Resources: r.Resources, Verbs: r.Verbs})
			}
		}
		Expect(source.Client.Create(ctx, role)).To(Succeed())
		c := remoteCluster(tokenSecret(mintToken(role.Name)))
		Eventually(condition(c, migv1.SaTokenNotPrivileged)).Should(And(beCritical("Forbidden"),
			HaveField("Message", ContainSubstring("As a source it lacks: get backups.velero.io, list backups.velero.io, watch backups.velero.io, create backups.velero.io, delete backups.velero.io."))))
	})

	It("verifies the API server against caBundle, and skips verification only when insecure", func() {
		token := mintToken("cluster-admin")
		noCA := remoteCluster(tokenSecret(token), func(s *migv1.MigClusterSpec) { s.CABundle = nil })
		Eventually(condition(noCA, migv1.TestConnectFailed)).Should(And(beCritical("ConnectFailed"),
			HaveField("Message", ContainSubstring("caBundle"))))

		wrongCA := remoteCluster(tokenSecret(token), func(s *migv1.MigClusterSpec) { s.CABundle = destination.CABundle() })
		Eventually(condition(wrongCA, migv1.TestConnectFailed)).Should(beCritical("ConnectFailed"))

		insecure := remoteCluster(tokenSecret(token), func(s *migv1.MigClusterSpec) { s.CABundle = nil; s.Insecure = true })
		Eventually(condition(insecure, migv1.Ready)).Should(beReady)
	})

	It("validates an exposed registry route over verified TLS, without the token, and reports its path", func() {
		var authorized atomic.Int32
		registry := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				authorized.Add(1)
			}
			if r.URL.Path != "/v2/" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://`+r.Host+`/openshift/token"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		cert, registryCA := selfSignedCert()
		registry.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		registry.StartTLS()
		defer registry.Close()
		host := strings.TrimPrefix(registry.URL, "https://")
		token := mintToken("cluster-admin")

		untrusted := remoteCluster(tokenSecret(token), func(s *migv1.MigClusterSpec) { s.ExposedRegistryPath = host })
		Eventually(condition(untrusted, migv1.InvalidRegistryRoute)).Should(And(beCritical("RouteTestFailed"),
			HaveField("Message", And(ContainSubstring("not trusted"), ContainSubstring("caBundle"), ContainSubstring("insecure")))))

		withCA := remoteCluster(tokenSecret(token), func(s *migv1.MigClusterSpec) {
			s.ExposedRegistryPath = "https://" + host + "/"
			s.CABundle = append(slices.Clone(source.CABundle()), registryCA...)
		})
		Eventually(condition(withCA, migv1.Ready)).Should(beReady)
		got := &migv1.MigCluster{}
		Expect(destination.Client.Get(ctx, client.ObjectKeyFromObject(withCA), got)).To(Succeed())
		Expect(got.Status.RegistryPath).To(Equal(host))

		insecure := remoteCluster(tokenSecret(token), func(s *migv1.MigClusterSpec) {
			s.ExposedRegistryPath = host
			s.CABundle, s.Insecure = nil, true
		})
		Eventually(condition(insecure, migv1.Ready)).Should(beReady)

		bad := remoteCluster(tokenSecret(token), func(s *migv1.MigClusterSpec) { s.ExposedRegistryPath = host + "/not-a-registry"; s.Insecure = true })
		Eventually(condition(bad, migv1.InvalidRegistryRoute)).Should(beCritical("RouteTestFailed"))

		Expect(authorized.Load()).To(BeZero(), "no request to the registry route carried the cluster's token")
	})

	It("never puts a token into conditions or events", func() {
		token := mintToken("")
		c := remoteCluster(tokenSecret(token))
		Eventually(condition(c, migv1.SaTokenNotPrivileged)).ShouldNot(BeNil())
		got := &migv1.MigCluster{}
		Expect(destination.Client.Get(ctx, client.ObjectKeyFromObject(c), got)).To(Succeed())
		for _, cond := range got.Status.Conditions {
			Expect(cond.Message).NotTo(ContainSubstring(token))
		}
		events := &eventsv1.EventList{}
		Eventually(func() int {
			Expect(destination.Client.List(ctx, events, client.InNamespace(opNamespace))).To(Succeed())
			n := 0
			for _, e := range events.Items {
				if e.Regarding.Name == c.Name {
					n++
					Expect(e.Note).NotTo(ContainSubstring(token))
				}
			}
			return n
		}).Should(BeNumerically(">", 0), "the condition change is reported as an event")
	})
})

// selfSignedCert makes a certificate for 127.0.0.1 that no CA the operator has signed, and
// returns it with its PEM.
func selfSignedCert() (tls.Certificate, []byte) {
	GinkgoHelper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "registry"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	Expect(err).NotTo(HaveOccurred())
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

var _ = Describe("The operator's namespace", func() {
	It("is the only one whose MigClusters the operator honours", func() {
		Expect(destination.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere"}})).To(Succeed())
		c := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "elsewhere", Name: "host"}, Spec: migv1.MigClusterSpec{IsHostCluster: true}}
		Expect(destination.Client.Create(ctx, c)).To(Succeed())
		// The same object in the operator's namespace is Ready within a second or two.
		Consistently(func() []migv1.Condition {
			got := &migv1.MigCluster{}
			Expect(destination.Client.Get(ctx, client.ObjectKeyFromObject(c), got)).To(Succeed())
			return got.Status.Conditions
		}, 5*time.Second).Should(BeEmpty())
	})
})
