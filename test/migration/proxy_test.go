package migration_test

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/migenv"
)

// A remote cluster reachable only through an HTTP CONNECT proxy (#17 item 2): the source API
// server is registered under migenv.SourceAPIHost (Go never proxies loopback addresses), and
// the operator's pod, where the name resolves too, is cut off the API server's port; a
// MigStorage names the S3 server by migenv.StorageHost, which the proxy refuses, so it works
// only while noProxy exempts it. The settings change while the operator runs, and it is never
// restarted.
var _ = Describe("httpProxy, httpsProxy and noProxy", func() {
	It("reach a remote cluster only through the proxy and keep noProxy's hosts off it, applied without a restart", func() {
		if env.Operator == nil {
			Skip("the operator runs as a host process, outside the destination's pod network (FERRY_OPERATOR=process)")
		}
		api, err := url.Parse(env.Source.URL())
		Expect(err).NotTo(HaveOccurred())
		apiPort := mustPort(api)
		apiHost := migenv.SourceAPIHost + ":" + api.Port()
		store, err := url.Parse(env.Store.Endpoint)
		Expect(err).NotTo(HaveOccurred())
		before := operatorRun()

		By("running the proxy on the source, which reaches " + apiHost + " (its pod's loopback forward of the API server)")
		proxy := startEgressProxy("corp-proxy", []string{`^source-api\.test$`}, apiPort)
		// The operator's pod may not reach the source API server's port directly at all.
		env.DestinationNode().BlockLoopbackPort(apiPort, true)
		DeferCleanup(func() { env.DestinationNode().BlockLoopbackPort(apiPort, false) })

		By("registering the source by that name: unreachable from the operator's pod without a proxy")
		cluster := proxiedSourceCluster("source-via-proxy", "https://"+apiHost)
		Eventually(clusterCondition(cluster, migv1.TestConnectFailed)).Should(Not(BeNil()))
		Consistently(clusterCondition(cluster, migv1.Ready)).WithTimeout(5 * time.Second).Should(BeNil())
		Expect(proxy.connects(apiHost)).To(BeZero())

		By("naming the object store by a name the operator's pod resolves: reachable directly")
		storage := namedStorage("storage-by-name", "http://"+migenv.StorageHost+":"+store.Port())
		Expect(fixtures.WaitReady(ctx, env.Destination.Client, time.Minute, storage)).To(Succeed())

		By("setting httpProxy and httpsProxy on the MigrationController: the cluster becomes Ready through the proxy")
		setProxies(migv1.MigrationControllerSpec{HTTPProxy: proxy.URL, HTTPSProxy: proxy.URL})
		Expect(fixtures.WaitReady(ctx, env.Destination.Client, time.Minute, cluster)).To(Succeed())
		Expect(proxy.connects(apiHost)).To(BeNumerically(">", 0), "the proxy's log:\n%s", proxy.log())

		By("re-testing the storage: without a noProxy entry its requests go to the proxy, which refuses them")
		refresh(storage)
		proxyURL, err := url.Parse(proxy.URL)
		Expect(err).NotTo(HaveOccurred())
		Eventually(storageCondition(storage, migv1.BackupStorageProviderTestFailed)).Should(And(Not(BeNil()),
			HaveField("Message", And(ContainSubstring("through the proxy "+proxyURL.Host), ContainSubstring("noProxy"),
				Not(ContainSubstring(egressProxyPassword))))), "the user learns that the proxy answered, not the store")
		Expect(proxy.filtered(migenv.StorageHost)).To(BeNumerically(">", 0), "the proxy's log:\n%s", proxy.log())

		By("adding the storage's domain to noProxy: it is reached directly again")
		setProxies(migv1.MigrationControllerSpec{HTTPProxy: proxy.URL, HTTPSProxy: proxy.URL, NoProxy: ".storage.test"})
		// Until the operator reads the change (settings.LiveProxy reads them every few
		// seconds) a test may still go to the proxy: refresh until one passes.
		Eventually(func() error {
			refresh(storage)
			return fixtures.WaitReady(ctx, env.Destination.Client, 10*time.Second, storage)
		}).WithTimeout(time.Minute).Should(Succeed())
		refused := proxy.filtered(migenv.StorageHost)
		refresh(storage)
		Expect(fixtures.WaitReady(ctx, env.Destination.Client, 10*time.Second, storage)).To(Succeed())
		Expect(proxy.filtered(migenv.StorageHost)).To(Equal(refused), "a test of the storage went to the proxy although noProxy names its domain")

		By("cutting a namespace over from the cluster behind the proxy, with a hook on it that needs the proxy settings")
		const name = "proxied"
		app(name, 1)
		prepareHooks()
		envHook := hook("proxy-env", migv1.HookPhasePreBackup, migv1.HookTargetSource,
			migv1.MigHookSpec{Custom: true, Image: proxyEnvHookImage})
		connectsBefore := proxy.connects(apiHost)
		plan := readyPlan(name, []string{name}, func(p *migv1.MigPlan) {
			p.Spec.SrcMigClusterRef = fixtures.Ref(ns, cluster.Name)
			p.Spec.Hooks = []migv1.MigPlanHook{envHook}
		})
		m := completed(migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true}), 4*time.Minute)
		Expect(m.Status.Errors).To(BeEmpty())
		Expect(hasCondition(m, migv1.Succeeded)).To(BeTrue(), "conditions: %v", m.Status.Conditions)
		Expect(exists(env.Destination.Client, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "web-config"}})()).To(BeTrue())
		Expect(replicasOf(env.Destination.Client, name)()).To(Equal(int32(1)))
		Expect(replicasOf(env.Source.Client, name)()).To(Equal(int32(0)), "the source app was quiesced through the proxy")
		Expect(proxy.connects(apiHost)).To(BeNumerically(">", connectsBefore), "the migration's requests to the source went through the proxy")
		log := proxy.log()
		GinkgoWriter.Printf("proxy log tail:\n%s\n", log[max(0, len(log)-3000):])
		Expect(log).To(MatchRegexp(`Established connection to host "` + regexp.QuoteMeta(migenv.SourceAPIHost) + `"`))

		By("finding the proxy settings in the environment of the hook's Job (which stays after the migration)")
		jobs := &batchv1.JobList{}
		Expect(env.Source.Client.List(ctx, jobs, client.InNamespace(hookNamespace), client.HasLabels{"mighook"})).To(Succeed())
		var hookEnv []corev1.EnvVar
		for _, j := range jobs.Items {
			// Other specs' hooks may have left Jobs there; this plan's are named after it.
			if strings.HasPrefix(j.Name, name+"-prebackup-") {
				hookEnv = j.Spec.Template.Spec.Containers[0].Env
			}
		}
		Expect(hookEnv).To(ContainElements(
			corev1.EnvVar{Name: "HTTPS_PROXY", Value: proxy.URL}, corev1.EnvVar{Name: "HTTP_PROXY", Value: proxy.URL},
			corev1.EnvVar{Name: "NO_PROXY", Value: ".storage.test"}, corev1.EnvVar{Name: "no_proxy", Value: ".storage.test"}))

		By("checking the operator was never restarted")
		Expect(operatorRun()).To(Equal(before))
	})
})

// proxyEnvHookImage is a hook that succeeds only when its pod has the proxy settings as
// environment, in both spellings.
const proxyEnvHookImage = "hooks.example/proxy-env:1"

func init() {
	hookImages[proxyEnvHookImage] = []string{"sh", "-c",
		`test -n "$HTTPS_PROXY" && test "$HTTPS_PROXY" = "$https_proxy" && test -n "$NO_PROXY" && test "$NO_PROXY" = "$no_proxy"`}
}

// run identifies one run of the operator's container.
type run struct {
	pod      string
	restarts int32
	pid      int
}

func operatorRun() run {
	GinkgoHelper()
	pod, err := env.Operator.Pod(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(pod.Status.ContainerStatuses).NotTo(BeEmpty())
	pid, ok := env.Operator.PID(ctx)
	Expect(ok).To(BeTrue(), "the operator is not running")
	return run{pod: string(pod.UID), restarts: pod.Status.ContainerStatuses[0].RestartCount, pid: pid}
}

// proxiedSourceCluster registers the source cluster at apiURL as the env's source
// MigCluster is (token, registry), trusting the CA of the API server's named certificate.
func proxiedSourceCluster(name, apiURL string) *migv1.MigCluster {
	GinkgoHelper()
	src := &migv1.MigCluster{}
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: fixtures.SourceCluster}, src)).To(Succeed())
	c := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: *src.Spec.DeepCopy()}
	c.Spec.URL = apiURL
	c.Spec.CABundle = append(append(append([]byte(nil), env.Source.NamedCABundle()...), '\n'), env.SourceRegistry.CAPEM...)
	Expect(env.Destination.Client.Create(ctx, c)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(env.Destination.Client.Delete(ctx, c))).To(Succeed()) })
	return c
}

// namedStorage is a MigStorage like the env's on the same bucket, at s3URL.
func namedStorage(name, s3URL string) *migv1.MigStorage {
	GinkgoHelper()
	base := &migv1.MigStorage{}
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: fixtures.Storage}, base)).To(Succeed())
	s := &migv1.MigStorage{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: *base.Spec.DeepCopy()}
	s.Spec.BackupStorageConfig.AwsS3URL = s3URL
	Expect(env.Destination.Client.Create(ctx, s)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(env.Destination.Client.Delete(ctx, s))).To(Succeed()) })
	return s
}

// refresh asks the operator to test the storage again (spec.refresh, as a user would) and
// waits until it did: it resets spec.refresh once the new status is written.
func refresh(s *migv1.MigStorage) {
	GinkgoHelper()
	got := &migv1.MigStorage{}
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(s), got); err != nil {
			return err
		}
		got.Spec.Refresh = true
		return env.Destination.Client.Update(ctx, got)
	})).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(s), got)).To(Succeed())
		g.Expect(got.Spec.Refresh).To(BeFalse())
	}).Should(Succeed())
}

// setProxies makes spec the MigrationController's (creating it the first time) and deletes
// it when the spec ends.
func setProxies(spec migv1.MigrationControllerSpec) {
	GinkgoHelper()
	c := env.Destination.Client
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: settings.PreferredName}}
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		err := c.Get(ctx, client.ObjectKeyFromObject(mc), mc)
		if apierrors.IsNotFound(err) {
			mc.Spec = spec
			if err = c.Create(ctx, mc); err == nil {
				DeferCleanup(func() { Expect(client.IgnoreNotFound(c.Delete(ctx, mc))).To(Succeed()) })
			}
			return err
		}
		if err != nil {
			return err
		}
		mc.Spec = spec
		return c.Update(ctx, mc)
	})).To(Succeed())
}

func clusterCondition(c *migv1.MigCluster, t string) func() *migv1.Condition {
	return func() *migv1.Condition {
		got := &migv1.MigCluster{}
		if err := env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(c), got); err != nil {
			return nil
		}
		return conditions.Find(got.Status.Conditions, t)
	}
}

func storageCondition(s *migv1.MigStorage, t string) func() *migv1.Condition {
	return func() *migv1.Condition {
		got := &migv1.MigStorage{}
		if err := env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(s), got); err != nil {
			return nil
		}
		return conditions.Find(got.Status.Conditions, t)
	}
}

func mustPort(u *url.URL) int {
	GinkgoHelper()
	p, err := strconv.Atoi(u.Port())
	Expect(err).NotTo(HaveOccurred())
	return p
}
