package node

import (
	"context"
	"fmt"
	"net"
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
