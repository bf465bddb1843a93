package node

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func policy(ns, name string, sel map[string]string, types []networkingv1.PolicyType, mutate func(*networkingv1.NetworkPolicySpec)) *networkingv1.NetworkPolicy {
	p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: sel}, PolicyTypes: types}}
	if mutate != nil {
		mutate(&p.Spec)
	}
	return p
}

func TestComputeRules(t *testing.T) {
	ingress := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	egress := []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	server := policyPod{Namespace: "a", Name: "server", Labels: map[string]string{"app": "web"}, IP: "10.244.1.2",
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "dns", ContainerPort: 53, Protocol: udp}}}
	view := policyView{
		Pods: []policyPod{
			server,
			{Namespace: "a", Name: "client", Labels: map[string]string{"role": "client"}, IP: "10.244.1.3"},
			{Namespace: "a", Name: "other", Labels: map[string]string{"role": "other"}, IP: "10.244.1.4"},
			{Namespace: "a", Name: "pending", Labels: map[string]string{"role": "client"}},
			{Namespace: "b", Name: "friend", Labels: map[string]string{"role": "client"}, IP: "10.244.2.5",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9090}}},
			{Namespace: "c", Name: "stranger", Labels: map[string]string{"role": "client"}, IP: "10.244.2.6"},
		},
		Namespaces: map[string]map[string]string{
			"a": {corev1.LabelMetadataName: "a"},
			"b": {corev1.LabelMetadataName: "b", "team": "friends"},
			"c": {corev1.LabelMetadataName: "c"},
		},
	}
	clientSel := &metav1.LabelSelector{MatchLabels: map[string]string{"role": "client"}}
	friends := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "friends"}}
	for _, tc := range []struct {
		name     string
		policies []*networkingv1.NetworkPolicy
		want     podRules
	}{
		{name: "no policy", want: podRules{}},
		{name: "policy of another namespace", policies: []*networkingv1.NetworkPolicy{policy("b", "deny", nil, ingress, nil)}, want: podRules{}},
		{name: "policy selecting other pods", policies: []*networkingv1.NetworkPolicy{policy("a", "deny", map[string]string{"app": "db"}, ingress, nil)}, want: podRules{}},
		{
			name:     "default deny ingress",
			policies: []*networkingv1.NetworkPolicy{policy("a", "deny", nil, ingress, nil)},
			want:     podRules{IngressIsolated: true},
		},
		{
			name:     "no policyTypes: ingress only without egress rules",
			policies: []*networkingv1.NetworkPolicy{policy("a", "deny", nil, nil, nil)},
			want:     podRules{IngressIsolated: true},
		},
		{
			name: "no policyTypes: egress too with egress rules",
			policies: []*networkingv1.NetworkPolicy{policy("a", "p", nil, nil, func(s *networkingv1.NetworkPolicySpec) {
				s.Egress = []networkingv1.NetworkPolicyEgressRule{{}}
			})},
			want: podRules{IngressIsolated: true, EgressIsolated: true, Egress: []accept{{Policy: "a/p"}}},
		},
		{
			name: "allow all ingress",
			policies: []*networkingv1.NetworkPolicy{policy("a", "all", map[string]string{"app": "web"}, ingress, func(s *networkingv1.NetworkPolicySpec) {
				s.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
			})},
			want: podRules{IngressIsolated: true, Ingress: []accept{{Policy: "a/all"}}},
		},
		{
			name: "podSelector and namespaceSelector peers, numeric and named ports",
			policies: []*networkingv1.NetworkPolicy{policy("a", "p", nil, ingress, func(s *networkingv1.NetworkPolicySpec) {
				s.Ingress = []networkingv1.NetworkPolicyIngressRule{{
					From: []networkingv1.NetworkPolicyPeer{{PodSelector: clientSel}, {NamespaceSelector: friends}},
					Ports: []networkingv1.NetworkPolicyPort{
						{Port: ptr.To(intstr.FromString("http"))},
						{Protocol: &udp, Port: ptr.To(intstr.FromInt32(53)), EndPort: ptr.To[int32](60)},
						{Port: ptr.To(intstr.FromString("missing"))},
					},
				}}
			})},
			want: podRules{IngressIsolated: true, Ingress: []accept{
				{Peer: "10.244.1.3/32", Proto: "udp", Port: "53:60", Policy: "a/p"},
				{Peer: "10.244.1.3/32", Proto: "tcp", Port: "8080", Policy: "a/p"},
				{Peer: "10.244.2.5/32", Proto: "udp", Port: "53:60", Policy: "a/p"},
				{Peer: "10.244.2.5/32", Proto: "tcp", Port: "8080", Policy: "a/p"},
			}},
		},
		{
			name: "namespaceSelector and podSelector in one peer, protocol without port",
			policies: []*networkingv1.NetworkPolicy{policy("a", "p", nil, ingress, func(s *networkingv1.NetworkPolicySpec) {
				s.Ingress = []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: clientSel}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp}},
				}}
			})},
			want: podRules{IngressIsolated: true, Ingress: []accept{
				{Peer: "10.244.1.3/32", Proto: "tcp", Policy: "a/p"},
				{Peer: "10.244.2.5/32", Proto: "tcp", Policy: "a/p"},
				{Peer: "10.244.2.6/32", Proto: "tcp", Policy: "a/p"},
			}},
		},
		{
			name: "only a named port the pod lacks: isolated, nothing allowed",
			policies: []*networkingv1.NetworkPolicy{policy("a", "p", nil, ingress, func(s *networkingv1.NetworkPolicySpec) {
				s.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromString("grpc"))}}}}
			})},
			want: podRules{IngressIsolated: true},
		},
		{
			name: "ipBlock with except",
			policies: []*networkingv1.NetworkPolicy{policy("a", "p", nil, ingress, func(s *networkingv1.NetworkPolicySpec) {
				s.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
					{IPBlock: &networkingv1.IPBlock{CIDR: "10.244.0.0/22", Except: []string{"10.244.1.0/24", "10.244.2.0/23"}}},
					{IPBlock: &networkingv1.IPBlock{CIDR: "fd00::/8"}},
				}}}
			})},
			want: podRules{IngressIsolated: true, Ingress: []accept{{Peer: "10.244.0.0/24", Policy: "a/p"}}},
		},
		{
			name: "union of two policies, duplicates dropped",
			policies: []*networkingv1.NetworkPolicy{
				policy("a", "one", nil, ingress, func(s *networkingv1.NetworkPolicySpec) {
					s.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: clientSel}}}}
				}),
				policy("a", "two", map[string]string{"app": "web"}, ingress, func(s *networkingv1.NetworkPolicySpec) {
					s.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
						{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "other"}}},
						{PodSelector: clientSel},
					}}}
				}),
			},
			want: podRules{IngressIsolated: true, Ingress: []accept{
				{Peer: "10.244.1.3/32", Policy: "a/one"},
				{Peer: "10.244.1.4/32", Policy: "a/two"},
			}},
		},
		{
			name:     "default deny egress",
			policies: []*networkingv1.NetworkPolicy{policy("a", "deny", nil, egress, nil)},
			want:     podRules{EgressIsolated: true},
		},
		{
			name: "egress to pods by named port (theirs) and to an ipBlock",
			policies: []*networkingv1.NetworkPolicy{policy("a", "p", nil, egress, func(s *networkingv1.NetworkPolicySpec) {
				s.Egress = []networkingv1.NetworkPolicyEgressRule{
					{
						To:    []networkingv1.NetworkPolicyPeer{{NamespaceSelector: friends}},
						Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromString("http"))}, {Port: ptr.To(intstr.FromInt32(22))}},
					},
					{
						To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.100.0.7/32"}}},
						Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(30080))}},
					},
				}
			})},
			want: podRules{EgressIsolated: true, Egress: []accept{
				{Peer: "10.244.2.5/32", Proto: "tcp", Port: "22", Policy: "a/p"},
				{Peer: "10.244.2.5/32", Proto: "tcp", Port: "9090", Policy: "a/p"},
				{Peer: "10.100.0.7/32", Proto: "tcp", Port: "30080", Policy: "a/p"},
			}},
		},
		{
			name: "egress named port to any peer and within an ipBlock",
			policies: []*networkingv1.NetworkPolicy{policy("a", "p", nil, egress, func(s *networkingv1.NetworkPolicySpec) {
				s.Egress = []networkingv1.NetworkPolicyEgressRule{
					{Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromString("http"))}}},
					{
						To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.244.2.0/24"}}},
						Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: ptr.To(intstr.FromString("dns"))}, {Port: ptr.To(intstr.FromInt32(80))}},
					},
				}
			})},
			want: podRules{EgressIsolated: true, Egress: []accept{
				{Peer: "10.244.1.2/32", Proto: "tcp", Port: "8080", Policy: "a/p"},
				{Peer: "10.244.2.5/32", Proto: "tcp", Port: "9090", Policy: "a/p"},
				{Peer: "10.244.2.0/24", Proto: "tcp", Port: "80", Policy: "a/p"},
			}},
		},
		{
			name: "the seed's allow-egress policy for rsync pods does not select the server",
			policies: []*networkingv1.NetworkPolicy{policy("a", "rsync", map[string]string{"owner": "directvolumemigration", "app": "directvolumemigration-rsync-transfer"}, egress, func(s *networkingv1.NetworkPolicySpec) {
				s.Egress = []networkingv1.NetworkPolicyEgressRule{{}}
			})},
			want: podRules{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := view
			v.Policies = tc.policies
			got := computeRules(server, v)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rules:\n got  %+v\n want %+v", got, tc.want)
			}
		})
	}
}

func TestSubtractPrefixes(t *testing.T) {
	for _, tc := range []struct {
		cidr   string
		except []string
		want   string
	}{
		{"10.0.0.0/8", nil, "10.0.0.0/8"},
		{"10.0.0.0/8", []string{"192.168.0.0/16"}, "10.0.0.0/8"},
		{"10.0.0.0/8", []string{"0.0.0.0/0"}, ""},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}, ""},
		{"10.0.0.0/30", []string{"10.0.0.1/32"}, "10.0.0.0/32 10.0.0.2/31"},
		{"10.0.0.0/8", []string{"10.128.0.0/9", "10.0.0.0/9"}, ""},
		{"0.0.0.0/0", []string{"10.0.0.0/8"}, "0.0.0.0/5 8.0.0.0/7 11.0.0.0/8 12.0.0.0/6 16.0.0.0/4 32.0.0.0/3 64.0.0.0/2 128.0.0.0/1"},
	} {
		var except []netip.Prefix
		for _, e := range tc.except {
			except = append(except, netip.MustParsePrefix(e))
		}
		var got []string
		for _, p := range subtractPrefixes(netip.MustParsePrefix(tc.cidr), except) {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s except %v = %v, want %s", tc.cidr, tc.except, got, tc.want)
		}
	}
}

func TestRestoreText(t *testing.T) {
	r := podRules{
		IngressIsolated: true,
		Ingress:         []accept{{Peer: "10.244.1.3/32", Proto: "tcp", Port: "8080", Policy: "a/p"}, {Peer: "10.0.0.0/8", Policy: "a/q"}},
		EgressIsolated:  true,
	}
	want := `*filter
:FERRY-INGRESS - [0:0]
:FERRY-EGRESS - [0:0]
-I INPUT 1 -j FERRY-INGRESS
-I OUTPUT 1 -j FERRY-EGRESS
-A FERRY-INGRESS -i lo -j ACCEPT
-A FERRY-INGRESS -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FERRY-INGRESS -s 10.244.1.3/32 -p tcp -m tcp --dport 8080 -m comment --comment "a/p" -j ACCEPT
-A FERRY-INGRESS -s 10.0.0.0/8 -m comment --comment "a/q" -j ACCEPT
-A FERRY-INGRESS -j DROP
-A FERRY-EGRESS -o lo -j ACCEPT
-A FERRY-EGRESS -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FERRY-EGRESS -j DROP
COMMIT
`
	if got := r.restore(true); got != want {
		t.Errorf("restore text:\n%s\nwant:\n%s", got, want)
	}
	if got := (podRules{}).restore(false); got != "*filter\n:FERRY-INGRESS - [0:0]\n:FERRY-EGRESS - [0:0]\nCOMMIT\n" {
		t.Errorf("open rules: %q", got)
	}
}

// TestRestoreApplies writes rules into a scratch network namespace the way the node does and
// reads them back: the text is valid for iptables-legacy-restore, and rewriting flushes the
// chains and keeps one jump each.
func TestRestoreApplies(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the process node needs root for network namespaces")
	}
	ctx := context.Background()
	ns := runPrefix() + "netpol-test"
	if err := addNetns(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = delNetns(ctx, ns) })
	first := podRules{IngressIsolated: true, Ingress: []accept{{Peer: "10.244.1.3/32", Proto: "sctp", Port: "80:90", Policy: "a/p"}}}
	second := podRules{EgressIsolated: true, Egress: []accept{{Peer: "10.100.0.2/32", Proto: "udp", Port: "53", Policy: "a/q"}}}
	if err := iptablesIn(ctx, ns, first.restore(true)); err != nil {
		t.Fatal(err)
	}
	if err := iptablesIn(ctx, ns, second.restore(false)); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ip", "netns", "exec", ns, "iptables-legacy-save", "-t", "filter").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables-legacy-save: %v: %s", err, out)
	}
	var rules []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "-A ") {
			rules = append(rules, line)
		}
	}
	want := []string{
		"-A INPUT -j FERRY-INGRESS",
		"-A OUTPUT -j FERRY-EGRESS",
		"-A FERRY-EGRESS -o lo -j ACCEPT",
		"-A FERRY-EGRESS -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		`-A FERRY-EGRESS -d 10.100.0.2/32 -p udp -m udp --dport 53 -m comment --comment "a/q" -j ACCEPT`,
		"-A FERRY-EGRESS -j DROP",
	}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("rules in the namespace:\n%s\nwant:\n%s", strings.Join(rules, "\n"), strings.Join(want, "\n"))
	}
}
