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
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
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
	proxyName      = "tinyproxy"
	proxyPort      = 8888
	proxyUser      = "ferry"
	proxyPassword  = "s3cret-Pa55"
)

var _ = Describe("stunnel_tcp_proxy: a DVM through an HTTP CONNECT proxy with basic authentication", Ordered, func() {
	const srcNS = "dvm-proxy"
	v := &volume{claim: "data", targetNS: srcNS, targetName: "data"}
	var proxyIP string

	BeforeAll(func() {
		src := env.Source.Client
		Expect(src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS, Labels: privileged}})).To(Succeed())
		v.dir = GinkgoT().TempDir()
		Expect(fill(v.dir, 21, 4<<20)).To(Succeed())
		createVolume(src, srcNS, v, "dvm-proxy-data", "1Gi")
		proxyIP = startProxy()
	})

	It("carries the data through the proxy, which logs the CONNECT to the rsync endpoint", func() {
		useMigrationController(migv1.MigrationControllerSpec{
			RsyncEndpointType: migv1.RsyncEndpointNodePort,
			StunnelTCPProxy:   fmt.Sprintf("http://%s:%s@%s", proxyUser, proxyPassword, net.JoinHostPort(proxyIP, strconv.Itoa(proxyPort))),
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
		log := proxyLog()
		GinkgoWriter.Printf("proxy log:\n%s\n", log[max(0, len(log)-4000):])
		Expect(log).To(ContainSubstring("CONNECT "+endpoint+" HTTP/1.1"), "the client's stunnel did not ask the proxy for the endpoint")
		host, _, _ := net.SplitHostPort(endpoint)
		Expect(log).To(ContainSubstring(`Established connection to host "`+host+`"`), "the proxy did not open the tunnel")
	})

	It("fails with a message that the proxy refused the client when the proxy password is wrong", func() {
		useMigrationController(migv1.MigrationControllerSpec{
			RsyncEndpointType: migv1.RsyncEndpointNodePort,
			StunnelTCPProxy:   fmt.Sprintf("http://%s:%s@%s", proxyUser, "wrong-password", net.JoinHostPort(proxyIP, strconv.Itoa(proxyPort))),
		})
		Expect(os.WriteFile(filepath.Join(v.dir, "after-the-first-copy.txt"), []byte("must not arrive"), 0o644)).To(Succeed())
		connectsBefore := strings.Count(proxyLog(), "Request (file descriptor")
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
		Expect(strings.Count(proxyLog(), "Request (file descriptor")).To(BeNumerically(">", connectsBefore))
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

// startProxy runs tinyproxy as a pod of the source cluster behind a ClusterIP Service, with
// basic authentication and CONNECT allowed to the NodePort range only, and returns the
// Service's cluster IP once the proxy accepts connections.
func startProxy() string {
	GinkgoHelper()
	src := env.Source.Client
	conf := []string{
		fmt.Sprintf("Port %d", proxyPort),
		"Listen 0.0.0.0",
		"Timeout 600",
		"MaxClients 50",
		// Connect logs each request and each tunnel opened; Info would add a line per port below.
		"LogLevel Connect",
		fmt.Sprintf("BasicAuth %s %s", proxyUser, proxyPassword),
	}
	for port := 30000; port <= 32767; port++ {
		conf = append(conf, fmt.Sprintf("ConnectPort %d", port))
	}
	labels := map[string]string{"app": proxyName}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: proxyNamespace}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: proxyNamespace, Name: proxyName},
			Data: map[string]string{"tinyproxy.conf": strings.Join(conf, "\n") + "\n"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: proxyNamespace, Name: proxyName, Labels: labels}, Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](2),
			Containers: []corev1.Container{{
				Name: proxyName, Image: "registry.example/tinyproxy:1.11",
				Command:      []string{"/usr/bin/tinyproxy", "-d", "-c", "/etc/tinyproxy/tinyproxy.conf"},
				Ports:        []corev1.ContainerPort{{Name: "proxy", ContainerPort: proxyPort}},
				VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/tinyproxy", ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: proxyName},
			}}}},
		}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: proxyNamespace, Name: proxyName}, Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "proxy", Port: proxyPort, TargetPort: intstr.FromInt32(proxyPort)}},
		}},
	}
	for _, obj := range objs {
		Expect(src.Create(ctx, obj)).To(Succeed(), "create %T %s", obj, obj.GetName())
	}
	// At LogLevel Connect this is the last line before tinyproxy listens.
	Eventually(readProxyLog).WithTimeout(time.Minute).Should(ContainSubstring("Reloading config file finished"))
	Eventually(func(g Gomega) {
		slices := &discoveryv1.EndpointSliceList{}
		g.Expect(src.List(ctx, slices, client.InNamespace(proxyNamespace), client.MatchingLabels{discoveryv1.LabelServiceName: proxyName})).To(Succeed())
		ready := 0
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if ptr.Deref(e.Conditions.Ready, false) {
					ready++
				}
			}
		}
		g.Expect(ready).To(Equal(1), "ready endpoints of the proxy Service")
	}).WithTimeout(time.Minute).Should(Succeed())
	svc := &corev1.Service{}
	Expect(src.Get(ctx, client.ObjectKey{Namespace: proxyNamespace, Name: proxyName}, svc)).To(Succeed())
	Expect(svc.Spec.ClusterIP).NotTo(BeEmpty())
	return svc.Spec.ClusterIP
}

// proxyLog is tinyproxy's log, read through the pod log API.
func proxyLog() string {
	GinkgoHelper()
	log, err := readProxyLog()
	Expect(err).NotTo(HaveOccurred())
	return log
}

func readProxyLog() (string, error) {
	b, err := env.Source.Clientset.CoreV1().Pods(proxyNamespace).GetLogs(proxyName, &corev1.PodLogOptions{Container: proxyName}).DoRaw(ctx)
	return string(b), err
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
