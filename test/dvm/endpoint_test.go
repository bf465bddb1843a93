package dvm_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/node"
)

// privileged labels the namespaces of volumes whose owners the copy keeps: that takes root
// transfer pods, which Pod Security admits in privileged namespaces only.
var privileged = map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}

// The HTTP CONNECT proxy on the source cluster: tinyproxy with basic authentication.
const (
	proxyNamespace = "egress-proxy"
	proxyPort      = 8888
	proxyUser      = "ferry"
	proxyPassword  = "s3cret-Pa55"
)

var _ = Describe("stunnel_tcp_proxy: a DVM through an HTTP CONNECT proxy with basic authentication", Ordered, func() {
	const srcNS = "dvm-proxy"
	v := &volume{claim: "data", targetNS: srcNS, targetName: "data"}
	var proxy *fixtures.Proxy

	BeforeAll(func() {
		src := env.Source.Client
		Expect(src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS, Labels: privileged}})).To(Succeed())
		v.dir = GinkgoT().TempDir()
		Expect(fill(v.dir, 21, 4<<20)).To(Succeed())
		createVolume(src, srcNS, v, "dvm-proxy-data", "1Gi")
		proxy = startProxy()
	})

	It("carries the data through the proxy, which logs the CONNECT to the rsync endpoint", func() {
		useMigrationController(migv1.MigrationControllerSpec{
			RsyncEndpointType: migv1.RsyncEndpointNodePort,
			StunnelTCPProxy:   fmt.Sprintf("http://%s:%s@%s", proxyUser, proxyPassword, net.JoinHostPort(proxy.Service.Spec.ClusterIP, strconv.Itoa(proxyPort))),
		})
		seen := recordTransferObjects(env.Destination.Clientset, srcNS)
		started := time.Now()
		dvm := run("dvm-proxy", srcNS, []*volume{v})
		GinkgoWriter.Printf("DVM through the proxy completed in %s\n", time.Since(started))
		Expect(dvm.Status.SuccessfulPods).To(HaveLen(1))
		Expect(diff(mustSnapshot(v.dir), mustSnapshot(destinationDir(v)))).To(BeEmpty())
		expectCleanedUp(dvm, srcNS, srcNS)

		By("finding the endpoint the clients were given in the proxy's log")
		svc := seen.service(srcNS, transfer.NamesFor(string(dvm.UID)).Server())
		Expect(svc).NotTo(BeNil(), "the rsync Service was never seen")
		Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeNodePort))
		Expect(svc.Spec.Ports).To(HaveLen(1))
		endpoint := net.JoinHostPort(nodeInternalIP(env.Destination.Client), strconv.Itoa(int(svc.Spec.Ports[0].NodePort)))
		log := proxyLog(proxy)
		GinkgoWriter.Printf("proxy log:\n%s\n", log[max(0, len(log)-4000):])
		Expect(log).To(ContainSubstring("CONNECT "+endpoint+" HTTP/1.1"), "the client's stunnel did not ask the proxy for the endpoint")
		host, _, _ := net.SplitHostPort(endpoint)
		Expect(log).To(ContainSubstring(`Established connection to host "`+host+`"`), "the proxy did not open the tunnel")
	})

	It("fails with a message that the proxy refused the client when the proxy password is wrong", func() {
		useMigrationController(migv1.MigrationControllerSpec{
			RsyncEndpointType: migv1.RsyncEndpointNodePort,
			StunnelTCPProxy:   fmt.Sprintf("http://%s:%s@%s", proxyUser, "wrong-password", net.JoinHostPort(proxy.Service.Spec.ClusterIP, strconv.Itoa(proxyPort))),
		})
		Expect(os.WriteFile(filepath.Join(v.dir, "after-the-first-copy.txt"), []byte("must not arrive"), 0o644)).To(Succeed())
		connectsBefore := strings.Count(proxyLog(proxy), "Request (file descriptor")
		seen := recordTransferObjects(env.Destination.Clientset, srcNS)

		started := time.Now()
		dvm := reusing(newDVM("dvm-proxy-denied", srcNS, []*volume{v}))
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		took := time.Since(started)
		GinkgoWriter.Printf("DVM refused by the proxy failed in %s; errors: %v\n", took, got.Status.Errors)

		Expect(conditions.IsTrue(got.Status.Conditions, migv1.Succeeded)).To(BeFalse())
		failed := conditions.Find(got.Status.Conditions, migv1.Failed)
		Expect(failed).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
		Expect(got.Status.FailedPods).To(HaveLen(1))
		Expect(got.Status.Errors).To(ContainElement(SatisfyAll(
			ContainSubstring(srcNS+"/"+v.claim),
			ContainSubstring("proxy"), ContainSubstring("refused"), ContainSubstring("authentication"),
		)), "a user reading status.errors learns that the proxy refused the client")
		Expect(strings.Join(got.Status.Errors, " ")).NotTo(ContainSubstring("wrong-password"), "the proxy password leaked into the status")
		p := &migv1.DirectVolumeMigrationProgress{}
		Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: transfer.ProgressName(dvm.Name, v.claim, srcNS)}, p)).To(Succeed())
		Expect(p.Status.LogMessage).To(ContainSubstring("CONNECT request rejected"))
		Expect(p.Status.LogMessage).NotTo(ContainSubstring("wrong-password"))
		Expect(took).To(BeNumerically("<", 3*time.Minute), "a refused password must not keep the DVM busy for long")

		By("checking that the refusals came from the proxy and nothing arrived")
		Expect(strings.Count(proxyLog(proxy), "Request (file descriptor")).To(BeNumerically(">", connectsBefore))
		svc := seen.service(srcNS, transfer.NamesFor(string(got.UID)).Server())
		Expect(svc).NotTo(BeNil(), "the rsync Service was never seen")
		Expect(filepath.Join(destinationDir(v), "after-the-first-copy.txt")).NotTo(BeAnExistingFile())
		expectCleanedUp(got, srcNS, srcNS)
	})
})

var _ = Describe("rsync_endpoint_type ClusterIP: a DVM within one cluster", Ordered, func() {
	const srcNS, destNS = "dvm-intra", "dvm-intra-copy"
	v := &volume{claim: "data", targetNS: destNS, targetName: "data-copy"}

	BeforeAll(func() {
		host := env.Destination.Client
		// The destination namespace gets the source namespace's labels.
		Expect(host.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS, Labels: privileged}})).To(Succeed())
		v.dir = GinkgoT().TempDir()
		Expect(fill(v.dir, 33, 4<<20)).To(Succeed())
		createVolume(host, srcNS, v, "dvm-intra-data", "1Gi")
	})

	It("copies a volume into another namespace of the same cluster through a ClusterIP Service", func() {
		useMigrationController(migv1.MigrationControllerSpec{RsyncEndpointType: migv1.RsyncEndpointClusterIP})
		seen := recordTransferObjects(env.Destination.Clientset, srcNS, destNS)
		dvm := newDVM("dvm-intra", srcNS, []*volume{v})
		dvm.Spec.SrcMigClusterRef = fixtures.Ref(ns, fixtures.HostCluster)
		started := time.Now()
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		GinkgoWriter.Printf("intra-cluster DVM completed in %s\n", time.Since(started))
		Expect(got.Status.Errors).To(BeEmpty())
		Expect(conditions.IsTrue(got.Status.Conditions, migv1.Succeeded)).To(BeTrue(), "conditions %v", got.Status.Conditions)
		Expect(got.Status.SuccessfulPods).To(HaveLen(1))
		Expect(diff(mustSnapshot(v.dir), mustSnapshot(destinationDir(v)))).To(BeEmpty())
		expectCleanedUp(got, srcNS, destNS)

		By("checking the endpoint was a ClusterIP Service and the clients were sent to its cluster IP")
		names := transfer.NamesFor(string(got.UID))
		svc := seen.service(destNS, names.Server())
		Expect(svc).NotTo(BeNil(), "the rsync Service was never seen")
		Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
		Expect(svc.Spec.ClusterIP).NotTo(BeEmpty())
		Expect(svc.Spec.Ports).To(ConsistOf(HaveField("NodePort", BeZero())))
		cm := seen.configMap(srcNS, names.Client())
		Expect(cm).NotTo(BeNil(), "the client ConfigMap was never seen")
		Expect(cm.Data).To(HaveKeyWithValue(transfer.StunnelKey(destNS),
			ContainSubstring("connect = "+net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(transfer.StunnelPort))+"\n")))
	})

	It("refuses to copy a volume onto itself", func() {
		dvm := newDVM("dvm-intra-onto-itself", srcNS, []*volume{{claim: v.claim}})
		dvm.Spec.SrcMigClusterRef = fixtures.Ref(ns, fixtures.HostCluster)
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		Eventually(func(g Gomega) {
			got := &migv1.DirectVolumeMigration{}
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(dvm), got)).To(Succeed())
			c := conditions.Find(got.Status.Conditions, migv1.InvalidSpec)
			g.Expect(c).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
			g.Expect(c.Category).To(Equal(migv1.CategoryCritical))
			g.Expect(c.Message).To(ContainSubstring(srcNS + "/" + v.claim + " would be copied onto itself"))
			g.Expect(got.Status.RsyncOperations).To(BeEmpty())
		}).Should(Succeed())
		Expect(env.Destination.Client.Delete(ctx, dvm)).To(Succeed())
		Eventually(func() error {
			return env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(dvm), &migv1.DirectVolumeMigration{})
		}).Should(MatchError(ContainSubstring("not found")))
	})
})

// startProxy runs the proxy (fixtures.Proxy) on the source cluster behind a ClusterIP
// Service, with basic authentication and CONNECT allowed to the NodePort range only, and
// returns it once it accepts connections.
func startProxy() *fixtures.Proxy {
	GinkgoHelper()
	var nodePorts []int
	for port := 30000; port <= 32767; port++ {
		nodePorts = append(nodePorts, port)
	}
	proxy, err := fixtures.StartProxy(ctx, env.Source.Client, env.Source.Clientset, fixtures.ProxyOptions{
		Namespace: proxyNamespace, Port: proxyPort, User: proxyUser, Password: proxyPassword, ConnectPorts: nodePorts,
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(proxy.Service.Spec.ClusterIP).NotTo(BeEmpty())
	return proxy
}

// proxyLog is the proxy's log.
func proxyLog(proxy *fixtures.Proxy) string {
	GinkgoHelper()
	log, err := proxy.Log(ctx)
	Expect(err).NotTo(HaveOccurred())
	return log
}

// createVolume makes v's directory the local PV pvName of a claim v.claim of size in
// namespace ns, on the cluster of c, and waits until the claim is bound.
func createVolume(c client.Client, ns string, v *volume, pvName, size string) {
	GinkgoHelper()
	pv, pvc := fixtures.BoundVolume(ns, v.claim, pvName, size)
	pv.Spec.Local.Path = v.dir
	Expect(c.Create(ctx, pv)).To(Succeed())
	Expect(c.Create(ctx, pvc)).To(Succeed())
	waitClaimBound(c, pvc)
}

// waitClaimBound waits until the claim is Bound.
func waitClaimBound(c client.Client, pvc *corev1.PersistentVolumeClaim) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		got := &corev1.PersistentVolumeClaim{}
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pvc), got)).To(Succeed())
		g.Expect(got.Status.Phase).To(Equal(corev1.ClaimBound))
	}).WithTimeout(time.Minute).Should(Succeed())
}

// nodeInternalIP is the InternalIP of the cluster's node, where NodePorts are reached.
func nodeInternalIP(c client.Client) string {
	GinkgoHelper()
	n := &corev1.Node{}
	Expect(c.Get(ctx, client.ObjectKey{Name: node.DefaultName}, n)).To(Succeed())
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	Fail("node " + n.Name + " has no InternalIP")
	return ""
}
