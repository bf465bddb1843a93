package node

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// This file is the pure half of NetworkPolicy enforcement (netpol.go is the other): from the
// cluster's policies, pods and namespaces to the iptables rules of one pod's network namespace.

// Chains of a pod's filter table: INPUT jumps to the ingress chain, OUTPUT to the egress one.
const (
	ingressChain = "FERRY-INGRESS"
	egressChain  = "FERRY-EGRESS"
)

// policyPod is a pod as NetworkPolicies see it: as a peer (namespace, labels, IP, named
// ports) or as the pod the rules are for.
type policyPod struct {
	Namespace, Name string
	Labels          map[string]string
	IP              string // "" while it has none
	Ports           []corev1.ContainerPort
}

// policyView is what a pod's rules are computed from: every pod of the cluster with an IP,
// the namespaces' labels, and the NetworkPolicies. Order matters only for the order of the
// rules (callers sort, so that unchanged input renders unchanged text).
type policyView struct {
	Pods       []policyPod
	Namespaces map[string]map[string]string
	Policies   []*networkingv1.NetworkPolicy
}

// accept is one ACCEPT rule of a chain: traffic from (ingress) or to (egress) Peer, a CIDR or
// "" for any address, with protocol Proto ("tcp", "udp", "sctp"; "" for any) and destination
// port Port ("80", "80:90"; "" for any). Policy (namespace/name) is the rule's comment.
type accept struct {
	Peer, Proto, Port, Policy string
}

// podRules are a pod's chains. A direction that no policy isolates has no rules at all.
type podRules struct {
	IngressIsolated, EgressIsolated bool
	Ingress, Egress                 []accept
}

// open reports whether the rules let everything through.
func (r podRules) open() bool { return !r.IngressIsolated && !r.EgressIsolated }

// policyTypes applies the API's rule for policies without policyTypes: Ingress always,
// Egress when the policy has egress rules.
func policyTypes(p *networkingv1.NetworkPolicy) (ingress, egress bool) {
	if len(p.Spec.PolicyTypes) == 0 {
		return true, len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		}
	}
	return ingress, egress
}

// selects reports whether sel matches set; an invalid selector matches nothing.
func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(set))
}

// computeRules computes the chains of pod from the policies of its namespace that select it.
func computeRules(pod policyPod, view policyView) podRules {
	var r podRules
	for _, p := range view.Policies {
		if p.Namespace != pod.Namespace || !selects(&p.Spec.PodSelector, pod.Labels) {
			continue
		}
		name := p.Namespace + "/" + p.Name
		ingress, egress := policyTypes(p)
		if ingress {
			r.IngressIsolated = true
			for _, rule := range p.Spec.Ingress {
				r.Ingress = append(r.Ingress, ingressAccepts(name, p.Namespace, rule, pod, view)...)
			}
		}
		if egress {
			r.EgressIsolated = true
			for _, rule := range p.Spec.Egress {
				r.Egress = append(r.Egress, egressAccepts(name, p.Namespace, rule, view)...)
			}
		}
	}
	r.Ingress, r.Egress = dedupe(r.Ingress), dedupe(r.Egress)
	return r
}

// ingressAccepts turns one ingress rule into ACCEPT rules: every peer address times every
// port. Named ports are the protected pod's own container ports.
func ingressAccepts(policy, policyNS string, rule networkingv1.NetworkPolicyIngressRule, pod policyPod, view policyView) []accept {
	static, named := splitPorts(rule.Ports)
	for _, np := range named {
		if port, ok := resolveNamed(np, pod); ok {
			static = append(static, port)
		}
	}
	if len(static) == 0 {
		return nil // only named ports, none of which the pod has: nothing matches
	}
	var peers []string
	if len(rule.From) == 0 {
		peers = []string{""}
	}
	for _, peer := range rule.From {
		if peer.IPBlock != nil {
			for _, pfx := range ipBlockPrefixes(peer.IPBlock) {
				peers = append(peers, pfx.String())
			}
			continue
		}
		for _, q := range view.Pods {
			if q.IP != "" && peerSelects(peer, policyNS, q, view.Namespaces) {
				peers = append(peers, q.IP+"/32")
			}
		}
	}
	var out []accept
	for _, peer := range peers {
		for _, port := range static {
			out = append(out, accept{Peer: peer, Proto: port.proto, Port: port.port, Policy: policy})
		}
	}
	return out
}

// egressAccepts turns one egress rule into ACCEPT rules. Numeric ports apply to every peer
// address; a named port applies to the pods among the peers (for an ipBlock, the pods whose IP
// it covers; for an empty `to`, every pod) that have a container port of that name, with that
// pod's number.
func egressAccepts(policy, policyNS string, rule networkingv1.NetworkPolicyEgressRule, view policyView) []accept {
	static, named := splitPorts(rule.Ports)
	var out []accept
	add := func(peer string, ports []policyPortSpec) {
		for _, port := range ports {
			out = append(out, accept{Peer: peer, Proto: port.proto, Port: port.port, Policy: policy})
		}
	}
	addNamed := func(q policyPod) {
		for _, np := range named {
			if port, ok := resolveNamed(np, q); ok {
				add(q.IP+"/32", []policyPortSpec{port})
			}
		}
	}
	if len(rule.To) == 0 {
		add("", static)
		if len(named) > 0 {
			for _, q := range view.Pods {
				if q.IP != "" {
					addNamed(q)
				}
			}
		}
		return out
	}
	for _, peer := range rule.To {
		if peer.IPBlock != nil {
			prefixes := ipBlockPrefixes(peer.IPBlock)
			for _, pfx := range prefixes {
				add(pfx.String(), static)
			}
			if len(named) == 0 {
				continue
			}
			for _, q := range view.Pods {
				if addr, err := netip.ParseAddr(q.IP); err == nil && covers(prefixes, addr) {
					addNamed(q)
				}
			}
			continue
		}
		for _, q := range view.Pods {
			if q.IP != "" && peerSelects(peer, policyNS, q, view.Namespaces) {
				add(q.IP+"/32", static)
				addNamed(q)
			}
		}
	}
	return out
}

// peerSelects reports whether a podSelector/namespaceSelector peer of a policy in policyNS
// matches pod q: without namespaceSelector, pods of policyNS; without podSelector, every pod
// of the selected namespaces.
func peerSelects(peer networkingv1.NetworkPolicyPeer, policyNS string, q policyPod, namespaces map[string]map[string]string) bool {
	if peer.PodSelector == nil && peer.NamespaceSelector == nil {
		return false
	}
	if peer.NamespaceSelector != nil {
		nsLabels, ok := namespaces[q.Namespace]
		if !ok {
			// Not seen yet: the label every namespace gets from the API server.
			nsLabels = map[string]string{corev1.LabelMetadataName: q.Namespace}
		}
		if !selects(peer.NamespaceSelector, nsLabels) {
			return false
		}
	} else if q.Namespace != policyNS {
		return false
	}
	return peer.PodSelector == nil || selects(peer.PodSelector, q.Labels)
}

// policyPortSpec is a port of a rule: protocol (lower case) and port or range ("" for any), or
// a port name still to resolve.
type policyPortSpec struct {
	proto, port, name string
}

// splitPorts converts a rule's ports into numeric ones and named ones. No ports means every
// port of every protocol.
func splitPorts(ports []networkingv1.NetworkPolicyPort) (static, named []policyPortSpec) {
	if len(ports) == 0 {
		return []policyPortSpec{{}}, nil
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		spec := policyPortSpec{proto: strings.ToLower(string(proto))}
		switch {
		case p.Port == nil:
		case p.Port.Type == intstr.String:
			spec.name = p.Port.StrVal
			named = append(named, spec)
			continue
		case p.EndPort != nil && *p.EndPort > p.Port.IntVal:
			spec.port = fmt.Sprintf("%d:%d", p.Port.IntVal, *p.EndPort)
		default:
			spec.port = strconv.Itoa(int(p.Port.IntVal))
		}
		static = append(static, spec)
	}
	return static, named
}

// resolveNamed finds a named port among pod's container ports (same name and protocol).
func resolveNamed(np policyPortSpec, pod policyPod) (policyPortSpec, bool) {
	for _, cp := range pod.Ports {
		proto := cp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if cp.Name == np.name && strings.ToLower(string(proto)) == np.proto {
			return policyPortSpec{proto: np.proto, port: strconv.Itoa(int(cp.ContainerPort))}, true
		}
	}
	return policyPortSpec{}, false
}

// ipBlockPrefixes is an IPv4 ipBlock's CIDR without its exceptions, as a list of CIDRs (the
// pods have IPv4 addresses only; an IPv6 or invalid block yields nothing).
func ipBlockPrefixes(b *networkingv1.IPBlock) []netip.Prefix {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil || !cidr.Addr().Is4() {
		return nil
	}
	var except []netip.Prefix
	for _, e := range b.Except {
		if pfx, err := netip.ParsePrefix(e); err == nil && pfx.Addr().Is4() {
			except = append(except, pfx.Masked())
		}
	}
	return subtractPrefixes(cidr.Masked(), except)
}

// subtractPrefixes returns the CIDRs that cover pfx except the addresses in except: halves of
// pfx, split further wherever an exception overlaps them (at most 32 per exception).
func subtractPrefixes(pfx netip.Prefix, except []netip.Prefix) []netip.Prefix {
	overlaps := false
	for _, e := range except {
		if e.Bits() <= pfx.Bits() && e.Contains(pfx.Addr()) {
			return nil // wholly excepted
		}
		if e.Overlaps(pfx) {
			overlaps = true
		}
	}
	if !overlaps {
		return []netip.Prefix{pfx}
	}
	bits := pfx.Bits() + 1
	low := netip.PrefixFrom(pfx.Addr(), bits)
	a := pfx.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= 1 << (32 - bits)
	high := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits)
	return append(subtractPrefixes(low, except), subtractPrefixes(high, except)...)
}

func covers(prefixes []netip.Prefix, addr netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// dedupe drops repeated rules (same peer, protocol and port), keeping the first.
func dedupe(in []accept) []accept {
	seen := map[[3]string]bool{}
	var out []accept
	for _, a := range in {
		key := [3]string{a.Peer, a.Proto, a.Port}
		if !seen[key] {
			seen[key] = true
			out = append(out, a)
		}
	}
	return out
}

// restore renders the rules as iptables-restore input for `iptables-restore --noflush`: it
// creates or flushes the two chains and fills them; with jumps it also puts the jumps from
// INPUT and OUTPUT at their top (once per namespace: --noflush would add them again). An
// isolated direction accepts loopback traffic, replies (conntrack), its rules, and drops the
// rest.
func (r podRules) restore(jumps bool) string {
	var b strings.Builder
	b.WriteString("*filter\n:" + ingressChain + " - [0:0]\n:" + egressChain + " - [0:0]\n")
	if jumps {
		b.WriteString("-I INPUT 1 -j " + ingressChain + "\n-I OUTPUT 1 -j " + egressChain + "\n")
	}
	writeChain(&b, ingressChain, "-i lo", "-s", r.IngressIsolated, r.Ingress)
	writeChain(&b, egressChain, "-o lo", "-d", r.EgressIsolated, r.Egress)
	b.WriteString("COMMIT\n")
	return b.String()
}

func writeChain(b *strings.Builder, chain, loopback, peerFlag string, isolated bool, rules []accept) {
	if !isolated {
		return
	}
	fmt.Fprintf(b, "-A %s %s -j ACCEPT\n", chain, loopback)
	fmt.Fprintf(b, "-A %s -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n", chain)
	for _, a := range rules {
		b.WriteString("-A " + chain)
		if a.Peer != "" {
			b.WriteString(" " + peerFlag + " " + a.Peer)
		}
		if a.Proto != "" {
			b.WriteString(" -p " + a.Proto)
			if a.Port != "" {
				b.WriteString(" -m " + a.Proto + " --dport " + a.Port)
			}
		}
		if a.Policy != "" {
			b.WriteString(` -m comment --comment "` + a.Policy + `"`)
		}
		b.WriteString(" -j ACCEPT\n")
	}
	fmt.Fprintf(b, "-A %s -j DROP\n", chain)
}
