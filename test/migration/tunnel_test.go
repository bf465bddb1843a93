package migration_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/tunnel"
	"github.com/ferrymtc/ferry/test/migenv"
)

// reachThroughTheTunnel runs seed §11.2 with ferry instead of crane, from a terminal: ferry
// tunnel-api (NodePort: the local clusters have no load balancer) deploys the agents from the
// operator's image on both clusters; the operator, in its pod on the destination, registers
// the source through proxied-cluster (API and registry); the client agent lost or gone shows
// that every byte goes through the tunnel; --delete removes it from both clusters.
func reachThroughTheTunnel() {
	const ns = "openvpn"
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

	// The process nodes have no cluster DNS: the MigCluster names proxied-cluster's ClusterIP,
	// where a cluster would resolve proxied-cluster.openvpn.svc.cluster.local to it.
	var proxied corev1.Service
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tunnel.ProxiedService}, &proxied)).To(Succeed())
	url := fmt.Sprintf("https://%s:%d", proxied.Spec.ClusterIP, tunnel.APIPort)
	registry := fmt.Sprintf("%s:%d", proxied.Spec.ClusterIP, tunnel.RegistryPort)
	term.command(fmt.Sprintf("%s --kubeconfig %s -n %s cluster add tunneled --url %s --insecure --token-file token --exposed-registry-path %s",
		bin, env.DestinationKubeconfig, migenv.Namespace, url, registry), 3*time.Minute)
	Expect(term.screen()).To(ContainSubstring("MigCluster tunneled is Ready."))

	By("losing the client agent's pod: its Deployment makes another, which reconnects")
	var pods corev1.PodList
	Expect(env.Source.Client.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
	Expect(pods.Items).To(HaveLen(1))
	Expect(env.Source.Client.Delete(ctx, &pods.Items[0], client.GracePeriodSeconds(0))).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(env.Source.Client.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
		g.Expect(pods.Items).To(ContainElement(HaveField("Status.Phase", corev1.PodRunning)))
	}).WithTimeout(time.Minute).Should(Succeed())
	Eventually(refreshedReadiness("tunneled")).WithTimeout(2*time.Minute).Should(Equal("True"),
		"the source is reachable again once the new client connects")

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

func scaleClient(ns string, replicas int32) {
	GinkgoHelper()
	var d appsv1.Deployment
	Expect(env.Source.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tunnel.ClientDeployment}, &d)).To(Succeed())
	before := d.DeepCopy()
	d.Spec.Replicas = &replicas
	Expect(env.Source.Client.Patch(ctx, &d, client.MergeFrom(before))).To(Succeed())
}
