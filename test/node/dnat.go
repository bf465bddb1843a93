package node

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// serviceMark is the packet mark that asks POSTROUTING to masquerade (kube-proxy's
// KUBE-MARK-MASQ bit).
const serviceMark = "0x4000/0x4000"

// dnatService is one TCP port of a Service that the kernel serves: traffic to its ClusterIPs
// (or its NodePort on any of the node's addresses) is DNATed to one of its endpoints.
type dnatService struct {
	key        string   // namespace/name:port, for the chain's name
	clusterIPs []string // IPv4 ClusterIPs
	port       int      // the Service port
	nodePort   int      // 0 without one
	endpoints  []string // host:port of its ready endpoints
}

// natRules is the node namespace's whole nat table for services, in iptables-restore form:
// PREROUTING (pods and other nodes) and OUTPUT (the node namespace itself) jump to
// FERRY-SERVICES, which sends each Service's traffic to its own chain; that chain marks the
// packet and DNATs it to an endpoint chosen at random (statistic rules, as kube-proxy's
// iptables mode writes them: rule i of n matches with probability 1/(n-i)). POSTROUTING
// masquerades marked packets, so a server's reply returns through this node's conntrack
// even when the server shares the client's bridge. A Service without ready endpoints gets no
// rule: its ClusterIP is then unreachable (the fabric has no route to it) and its NodePort
// refuses.
func natRules(services []dnatService) string {
	sort.Slice(services, func(i, j int) bool { return services[i].key < services[j].key })
	var chains, rules []string
	for _, s := range services {
		if len(s.endpoints) == 0 {
			continue
		}
		chain := serviceChain(s.key)
		chains = append(chains, ":"+chain+" - [0:0]")
		port := strconv.Itoa(s.port)
		for _, cip := range s.clusterIPs {
			rules = append(rules, fmt.Sprintf("-A FERRY-SERVICES -d %s/32 -p tcp -m tcp --dport %s -j %s", cip, port, chain))
		}
		if s.nodePort != 0 {
			rules = append(rules, fmt.Sprintf("-A FERRY-SERVICES -p tcp -m addrtype --dst-type LOCAL -m tcp --dport %d -j %s", s.nodePort, chain))
		}
		rules = append(rules, fmt.Sprintf("-A %s -j MARK --set-xmark %s", chain, serviceMark))
		eps := append([]string(nil), s.endpoints...)
		sort.Strings(eps)
		for i, ep := range eps {
			left := len(eps) - i
			if left == 1 {
				rules = append(rules, fmt.Sprintf("-A %s -p tcp -j DNAT --to-destination %s", chain, ep))
				continue
			}
			rules = append(rules, fmt.Sprintf("-A %s -p tcp -m statistic --mode random --probability %.11f -j DNAT --to-destination %s", chain, 1/float64(left), ep))
		}
	}
	lines := []string{
		"*nat",
		":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]",
		":FERRY-SERVICES - [0:0]",
	}
	lines = append(lines, chains...)
	lines = append(lines,
		"-A PREROUTING -j FERRY-SERVICES",
		"-A OUTPUT -j FERRY-SERVICES",
		"-A POSTROUTING -m mark --mark "+serviceMark+" -j MASQUERADE",
	)
	lines = append(lines, rules...)
	lines = append(lines, "COMMIT", "")
	return strings.Join(lines, "\n")
}

// serviceChain names a Service port's chain: a hash, since chain names are limited to 28
// characters and Service names are not.
func serviceChain(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "FERRY-SVC-" + base32.StdEncoding.EncodeToString(sum[:])[:16]
}

// kernelServed tells whether the kernel can carry a Service port's traffic: every endpoint is
// an address of the pod network or a node, so a DNAT reaches it. The `kubernetes` Service
// (its API server listens on the host's loopback) and endpoints on a loopback address stay
// with the userspace proxy, which dials them from the host.
func kernelServed(t svcTarget, endpoints []string) bool {
	if t.isAPIServer() {
		return false
	}
	for _, ep := range endpoints {
		host, _, err := net.SplitHostPort(ep)
		if err != nil {
			return false
		}
		if parsed := net.ParseIP(host); parsed == nil || parsed.IsLoopback() {
			return false
		}
	}
	return true
}

// replaceNAT writes the nat table of the named network namespace in one iptables-restore
// (without --noflush: the node owns that table, and stale Services' chains go with the rest).
func replaceNAT(ctx context.Context, netns, rules string) error {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", netns, iptablesRestore, "-w", "10", "--table", "nat")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s in %s: %w: %s", iptablesRestore, netns, err, strings.TrimSpace(string(out)))
	}
	return nil
}
