package dvm_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// The process nodes enforce NetworkPolicies (iptables in each pod's network namespace, dropping
// what is not allowed, as CNIs do).
var _ = Describe("NetworkPolicies around a transfer", Ordered, func() {
	const srcNS, destNS = "dvm-netpol", "dvm-netpol-copy"
	vol := &volume{claim: "data", targetNS: destNS, targetName: "data"}

	BeforeAll(func() {
		src, dest := env.Source.Client, env.Destination.Client
		Expect(src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS}})).To(Succeed())
		Expect(dest.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: destNS}})).To(Succeed())
		// Both namespaces are locked down: nothing in or out.
		denyAll := func(namespace string) *networkingv1.NetworkPolicy {
			return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "deny-all"},
				Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}}
		}
		Expect(src.Create(ctx, denyAll(srcNS))).To(Succeed())
		Expect(dest.Create(ctx, denyAll(destNS))).To(Succeed())
		vol.dir = GinkgoT().TempDir()
		Expect(os.Chmod(vol.dir, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(vol.dir, "rows.csv"), []byte("1,2,3\n"), 0o644)).To(Succeed())
		createVolume(src, srcNS, vol, "dvm-netpol-"+vol.claim, "1Gi")
	})

	It("blocking the transfer fails it as an unreachable endpoint, within the attempts' time bound", func() {
		dvm := newDVM("dvm-netpol-blocked", srcNS, []*volume{vol})
		dvm.Spec.RunAsRoot, dvm.Spec.BackOffLimit = nil, 2
		started := time.Now()
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		GinkgoWriter.Printf("blocked DVM failed after %s\n", time.Since(started))
		Expect(time.Since(started)).To(BeNumerically("<", 2*time.Minute), "two attempts of at most 20 s each")
		Expect(conditions.IsTrue(got.Status.Conditions, migv1.Failed)).To(BeTrue(), "conditions %v", got.Status.Conditions)
		network := conditions.Find(got.Status.Conditions, migv1.SourceToDestinationNetworkError)
		Expect(network).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
		Expect(got.Status.Errors).To(ConsistOf(And(ContainSubstring(srcNS+"/data"), ContainSubstring("unreachable"))))
	})

	It("the seed's policies for rsync pods let the transfer through", func() {
		for file, namespace := range map[string]string{
			"02-networkpolicy-egress-from-rsync-pods.yaml": srcNS,
			"03-networkpolicy-ingress-to-rsync-pods.yaml":  destNS,
		} {
			raw, err := os.ReadFile(filepath.Join("..", "compat", "testdata", "seed", file))
			Expect(err).NotTo(HaveOccurred())
			policy := &networkingv1.NetworkPolicy{}
			Expect(yaml.UnmarshalStrict(raw, policy)).To(Succeed())
			policy.Namespace = namespace
			c := env.Source.Client
			if namespace == destNS {
				c = env.Destination.Client
			}
			Expect(c.Create(ctx, policy)).To(Succeed())
		}
		dvm := reusing(newDVM("dvm-netpol-allowed", srcNS, []*volume{vol}))
		dvm.Spec.RunAsRoot = nil
		got := waitCompleted(func() *migv1.DirectVolumeMigration {
			Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
			return dvm
		}())
		Expect(got.Status.Errors).To(BeEmpty())
		Expect(os.ReadFile(filepath.Join(destinationDir(vol), "rows.csv"))).To(Equal([]byte("1,2,3\n")))
	})
})
