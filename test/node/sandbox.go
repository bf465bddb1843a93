package node

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ipam hands out the node's pod IPs (.2 to .254 of its /24), round robin so that an IP is not
// reused at once while Endpoints may still name it.
type ipam struct {
	slot int
	mu   sync.Mutex
	next int
	used map[int]types.UID
}

func newIPAM(slot int) *ipam { return &ipam{slot: slot, next: 2, used: map[int]types.UID{}} }

func (a *ipam) addr(host int) string { return fmt.Sprintf("10.244.%d.%d", a.slot, host) }

func (a *ipam) allocate(uid types.UID) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := 0; i < 253; i++ {
		host := a.next
		a.next++
		if a.next > 254 {
			a.next = 2
		}
		if _, taken := a.used[host]; !taken {
			a.used[host] = uid
			return a.addr(host), nil
		}
	}
	return "", fmt.Errorf("no free pod IP in %s", podCIDR(a.slot))
}

func (a *ipam) release(uid types.UID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for host, u := range a.used {
		if u == uid {
			delete(a.used, host)
		}
	}
}

func (a *ipam) lookup(uid types.UID) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for host, u := range a.used {
		if u == uid {
			return a.addr(host)
		}
	}
	return ""
}

// sandbox is a pod's network: its namespace, with eth0 (the pod IP) paired to a port of the
// node's bridge, and forwarders from the pod's loopback to the host's (the API server...).
type sandbox struct {
	ns       string
	ip       string
	forwards []*forwarder
}

func shortUID(uid types.UID) string { return strings.ReplaceAll(string(uid), "-", "")[:10] }

// createSandbox builds the network namespace of pod, NetworkPolicy rules included.
func (n *Node) createSandbox(ctx context.Context, pod *corev1.Pod) (_ *sandbox, err error) {
	uid := pod.UID
	podIP, err := n.ipam.allocate(uid)
	if err != nil {
		return nil, err
	}
	sb := &sandbox{ns: runPrefix() + "pod-" + shortUID(uid), ip: podIP}
	defer func() {
		if err != nil {
			n.destroySandbox(context.WithoutCancel(ctx), uid, sb)
		}
	}()
	if err := addNetns(ctx, sb.ns); err != nil {
		return nil, err
	}
	veth := "v" + shortUID(uid)
	for _, args := range [][]string{
		{"-n", n.netns, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", sb.ns},
		{"-n", n.netns, "link", "set", veth, "master", "cbr0", "up"},
		{"-n", sb.ns, "addr", "add", podIP + "/24", "dev", "eth0"},
		{"-n", sb.ns, "link", "set", "eth0", "up"},
		{"-n", sb.ns, "route", "add", "default", "via", podGateway(n.slot)},
	} {
		if err := ip(ctx, args...); err != nil {
			return nil, err
		}
	}
	for port, target := range n.hostPorts {
		l, err := listenIn(ctx, sb.ns, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return nil, err
		}
		fw := serveForward(l, n.firewall.guard(port, func(ctx context.Context) (net.Conn, error) { return dialIn(ctx, "", target) }))
		n.firewall.register(fw, port)
		sb.forwards = append(sb.forwards, fw)
	}
	if err := n.netpol.attach(ctx, pod, sb.ns); err != nil {
		return nil, err
	}
	return sb, nil
}

// destroySandbox removes the pod's namespace (its veth pair goes with it) and frees its IP.
func (n *Node) destroySandbox(ctx context.Context, uid types.UID, sb *sandbox) {
	n.netpol.detach(uid)
	for _, f := range sb.forwards {
		n.firewall.unregister(f)
		f.Close()
	}
	if err := delNetns(ctx, sb.ns); err != nil {
		n.logf("process node %s: %v", n.name, err)
	}
	n.ipam.release(uid)
}
