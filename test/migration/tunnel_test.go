package migration_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/tunnel"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/migenv"
)

// reachThroughTheTunnel runs seed §11.2 with ferry instead of crane, from a terminal, with the
// source behind a firewall (the harness cuts the destination's pods off the source's API
// server and registry): ferry tunnel-api (NodePort: the local clusters have no load
// balancer) deploys the agents from the operator's image on both clusters; the source is
// registered at https://proxied-cluster.openvpn.svc.cluster.local:8443 (API and registry
// through the tunnel); a cutover with volume data succeeds although the client agent's pod is
// lost in the middle of the volume copy; the client scaled to zero leaves the source
// unreachable; --delete removes the tunnel from both clusters.
func reachThroughTheTunnel() {
	const ns, app = "openvpn", "behind"
	appWithVolume(app, 1)
	probe := sourceNodePort(app)
	Eventually(probe).WithTimeout(time.Minute).Should(Succeed(), "without the firewall, the operator's pod reaches the source's node")
	Expect(env.FirewallSource(true)).To(Succeed())
	DeferCleanup(func() {
		Expect(env.FirewallSource(false)).To(Succeed())
		Expect(probe()).To(Succeed(), "the firewall is gone")
		// Later specs migrate from the source registered at its own address.
		Eventually(refreshedReadiness(fixtures.SourceCluster)).WithTimeout(2 * time.Minute).Should(Equal("True"))
	})
	bin := ferryBinary()
	dir := tokenDir()
	term := newTerminal("ferry-tunnel")
	term.run("cd " + dir)
	// Both clusters' contexts, merged from KUBECONFIG as kubectl does.
	tunnelAPI := fmt.Sprintf("KUBECONFIG=%s:%s %s tunnel-api --source-context source --destination-context destination",
		env.SourceKubeconfig, env.DestinationKubeconfig, bin)
	term.command(tunnelAPI+" --service-type NodePort --source-registry "+env.SourceRegistry.Address, 3*time.Minute)
	Expect(term.screen()).To(ContainSubstring("Tunnel connected."))
	Expect(term.screen()).To(ContainSubstring(tunnel.ProxiedURL(ns)))
	for _, c := range []client.Client{env.Source.Client, env.Destination.Client} {
		var d appsv1.DeploymentList
		Expect(c.List(ctx, &d, client.InNamespace(ns))).To(Succeed())
		Expect(d.Items).To(HaveLen(1))
		sc := d.Items[0].Spec.Template.Spec.Containers[0].SecurityContext
		Expect(*sc.AllowPrivilegeEscalation).To(BeFalse(), "the agents are unprivileged")
		Expect(sc.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
	}

	By("registering the source at the proxied-cluster Service's name")
	// The process nodes have no cluster DNS: the name is added to the operator's /etc/hosts (a
	// container's hosts file is written when it starts, so the operator is restarted), as a
	// cluster's DNS would resolve it to the Service's ClusterIP.
	var proxied corev1.Service
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tunnel.ProxiedService}, &proxied)).To(Succeed())
	host := strings.TrimSuffix(strings.TrimPrefix(tunnel.ProxiedURL(ns), "https://"), fmt.Sprintf(":%d", tunnel.APIPort))
	env.DestinationNode().SetHost(host, proxied.Spec.ClusterIP)
	Expect(env.KillOperator()).To(Succeed())
	Expect(env.StartOperator()).To(Succeed())
	ferry := fmt.Sprintf("%s --kubeconfig %s -n %s", bin, env.DestinationKubeconfig, migenv.Namespace)
	term.command(fmt.Sprintf("%s cluster add tunneled --url %s --insecure --token-file token --exposed-registry-path %s",
		ferry, tunnel.ProxiedURL(ns), tunnel.ProxiedRegistry(ns)), 3*time.Minute)
	Expect(term.screen()).To(ContainSubstring("MigCluster tunneled is Ready."))

	By("cutting over with volume data through the tunnel, losing the client agent's pod mid-copy")
	term.command(fmt.Sprintf("%s plan create %s --source tunneled --namespaces %s:%s-new --verify", ferry, app, app, app), 3*time.Minute)
	Expect(term.screen()).To(ContainSubstring("MigPlan " + app + " is Ready."))
	cutover := term.begin(fmt.Sprintf("%s cutover %s --name %s-cutover", ferry, app, app))
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: migenv.Namespace, Name: app + "-cutover"}}
	Eventually(func() error { return env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), m) }).
		WithTimeout(time.Minute).Should(Succeed())
	waitForPhase(m, "WaitForDirectVolumeMigrationToComplete")
	var pods corev1.PodList
	Expect(env.Source.Client.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
	Expect(pods.Items).To(HaveLen(1))
	lost := pods.Items[0]
	Expect(env.Source.Client.Delete(ctx, &lost, client.GracePeriodSeconds(0))).To(Succeed())
	cutover(5 * time.Minute)
	Expect(term.screen()).To(MatchRegexp(`Migration behind-cutover: Succeeded(WithWarnings)?\.`))
	Expect(checksums(destinationDataDir(app+"-new"))).To(HaveKey("file-03"), "the volume is copied")
	Expect(env.Source.Client.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
	Expect(pods.Items).To(ConsistOf(HaveField("UID", Not(Equal(lost.UID)))), "a new client agent carried the rest")

	By("checking the firewall: the source registered at its own address and the source's node are unreachable")
	Eventually(refreshedReadiness(fixtures.SourceCluster)).WithTimeout(2 * time.Minute).Should(Equal("False"))
	Expect(probe()).To(MatchError(ContainSubstring("refused")), "the operator's pod reaches the source's node")

	By("scaling the client agent to zero: the source is unreachable, so every request went through the tunnel")
	scaleClient(ns, 0)
	Eventually(refreshedReadiness("tunneled")).WithTimeout(2*time.Minute).Should(Equal("False"),
		"without a client agent, the checked-again MigCluster is not Ready")
	scaleClient(ns, 1)
	Eventually(refreshedReadiness("tunneled")).WithTimeout(2 * time.Minute).Should(Equal("True"))

	term.command(tunnelAPI+" --delete", time.Minute)
	for _, c := range []client.Client{env.Source.Client, env.Destination.Client} {
		Eventually(func() bool {
			var n corev1.Namespace
			err := c.Get(ctx, client.ObjectKey{Name: ns}, &n)
			return apierrors.IsNotFound(err) || (err == nil && !n.DeletionTimestamp.IsZero())
		}).WithTimeout(time.Minute).Should(BeTrue(), "the tunnel's namespace goes")
	}
}

// refreshedReadiness asks the operator to check the MigCluster again (spec.refresh, as the
// MTC console's refresh does) and returns its Ready status once that check is done ("" until
// then).
func refreshedReadiness(name string) func() string {
	requested := false
	return func() string {
		var c migv1.MigCluster
		Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: migenv.Namespace, Name: name}, &c)).To(Succeed())
		if !requested {
			before := c.DeepCopy()
			c.Spec.Refresh = true
			Expect(env.Destination.Client.Patch(ctx, &c, client.MergeFrom(before))).To(Succeed())
			requested = true
			return ""
		}
		if c.Spec.Refresh {
			return ""
		}
		requested = false // the next poll asks again
		if cond := conditions.Find(c.Status.Conditions, migv1.Ready); cond != nil {
			return cond.Status
		}
		return "False"
	}
}

// sourceNodePort starts a listener on the source, a pod running an rsync daemon (any TCP
// server would do) behind a NodePort Service, in a namespace of its own so that no migration
// takes it, and returns what dials that NodePort at the source node's address from the
// operator's pod. The Service needs a ready endpoint: as with kube-proxy, a NodePort without
// one refuses connections, which would read as the firewall's refusal.
func sourceNodePort(app string) func() error {
	GinkgoHelper()
	namespace := app + "-probe"
	labels := map[string]string{"app": "probe"}
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "probe", Labels: labels}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "listen", Image: "registry.example/probe:1",
				Command: []string{"rsync", "--daemon", "--no-detach", "--port=8080", "--config=/dev/null"}}},
		}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "probe"}, Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeNodePort, Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}},
	} {
		Expect(env.Source.Client.Create(ctx, obj)).To(Succeed())
	}
	DeferCleanup(func() {
		Expect(env.Source.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})).To(Succeed())
	})
	svc := &corev1.Service{}
	Expect(env.Source.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "probe"}, svc)).To(Succeed())
	var nodes corev1.NodeList
	Expect(env.Source.Client.List(ctx, &nodes)).To(Succeed())
	var nodeIP string
	for _, a := range nodes.Items[0].Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			nodeIP = a.Address
		}
	}
	addr := fmt.Sprintf("%s:%d", nodeIP, svc.Spec.Ports[0].NodePort)
	return func() error {
		var pods corev1.PodList
		if err := env.Destination.Client.List(ctx, &pods, client.InNamespace(migenv.Namespace),
			client.MatchingLabels{"app.kubernetes.io/name": "ferry"}); err != nil {
			return err
		}
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning || !p.DeletionTimestamp.IsZero() {
				continue
			}
			dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			conn, err := env.DestinationNode().DialFromPod(dialCtx, p.Namespace, p.Name, "tcp", addr)
			if err == nil {
				_ = conn.Close()
			}
			return err
		}
		return fmt.Errorf("no running operator pod")
	}
}

func scaleClient(ns string, replicas int32) {
	GinkgoHelper()
	var d appsv1.Deployment
	Expect(env.Source.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tunnel.ClientDeployment}, &d)).To(Succeed())
	before := d.DeepCopy()
	d.Spec.Replicas = &replicas
	Expect(env.Source.Client.Patch(ctx, &d, client.MergeFrom(before))).To(Succeed())
}
