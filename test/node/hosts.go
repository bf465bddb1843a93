package node

import (
	"maps"
	"slices"
	"strings"
	"sync"
)

// extraHosts are names that resolve in every container the node starts afterwards (written
// to its /etc/hosts): the process node has no cluster DNS, so a test that stands in for a
// DNS record (a router's wildcard domain, say) registers the name here.
type extraHosts struct {
	mu    sync.Mutex
	names map[string]string
}

// SetHost makes name resolve to ip in the containers this node starts from now on.
func (n *Node) SetHost(name, ip string) {
	n.hosts.mu.Lock()
	defer n.hosts.mu.Unlock()
	if n.hosts.names == nil {
		n.hosts.names = map[string]string{}
	}
	n.hosts.names[name] = ip
}

// lines returns the /etc/hosts lines of the extra names, sorted.
func (h *extraHosts) lines() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(h.names)) {
		b.WriteString(h.names[name] + "\t" + name + "\n")
	}
	return b.String()
}
