package node

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
)

// firewall lets a test cut every pod of the node off a forwarded host port (LoopbackPorts,
// the API server's), as a firewall in front of an on-premises cluster does: while a port is
// blocked, new connections to it are closed at once and those open when it was blocked are
// cut (an HTTP/2 connection kept alive would otherwise carry on).
type firewall struct {
	mu       sync.Mutex
	blocked  map[int]bool
	forwards map[*forwarder]int
}

// BlockLoopbackPort blocks (or, with blocked false, opens again) the forwarded host port for
// the node's pods.
func (n *Node) BlockLoopbackPort(port int, blocked bool) {
	f := &n.firewall
	f.mu.Lock()
	if f.blocked == nil {
		f.blocked = map[int]bool{}
	}
	f.blocked[port] = blocked
	var cut []*forwarder
	for fw, p := range f.forwards {
		if p == port && blocked {
			cut = append(cut, fw)
		}
	}
	f.mu.Unlock()
	for _, fw := range cut {
		fw.cutConnections()
	}
}

// guard wraps the dial of a forwarder of port with the firewall's check.
func (f *firewall) guard(port int, dial func(context.Context) (net.Conn, error)) func(context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		f.mu.Lock()
		blocked := f.blocked[port]
		f.mu.Unlock()
		if blocked {
			return nil, fmt.Errorf("port %d is blocked by the test's firewall", port)
		}
		return dial(ctx)
	}
}

func (f *firewall) register(fw *forwarder, port int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.forwards == nil {
		f.forwards = map[*forwarder]int{}
	}
	f.forwards[fw] = port
}

func (f *firewall) unregister(fw *forwarder) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.forwards, fw)
}

// Networks are the node's address and its pods' network: what another node's BlockNetworks
// takes to cut its pods off this node.
func (n *Node) Networks() []string { return []string{nodeIP(n.slot) + "/32", podCIDR(n.slot)} }

// BlockNetworks refuses (or, with blocked false, allows again) new connections from the node's
// pods to cidrs, as a firewall between data centres would: a REJECT in the FORWARD chain of
// the node's namespace, which routes its pods' traffic; replies to connections opened from the
// other side still pass (conntrack).
func (n *Node) BlockNetworks(ctx context.Context, cidrs []string, blocked bool) error {
	op := "-I"
	if !blocked {
		op = "-D"
	}
	var b strings.Builder
	b.WriteString("*filter\n")
	for _, cidr := range cidrs {
		fmt.Fprintf(&b, "%s FORWARD -s %s -d %s -m conntrack --ctstate NEW -j REJECT\n", op, podCIDR(n.slot), cidr)
	}
	b.WriteString("COMMIT\n")
	if err := iptablesIn(ctx, n.netns, b.String()); err != nil {
		return fmt.Errorf("node %s: firewall %v: %w", n.name, cidrs, err)
	}
	return nil
}
