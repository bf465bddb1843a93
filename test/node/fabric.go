package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Address plan. Every node of this process (whatever its cluster) gets a slot k in 1..maxNodes:
// node IP 10.100.0.k on the fabric, pods in 10.244.k.0/24 behind the node's bridge.
const (
	maxNodes     = 250
	fabricRouter = "10.100.0.254"
	namePrefix   = "ferrynode-"
)

func nodeIP(k int) string     { return fmt.Sprintf("10.100.0.%d", k) }
func podCIDR(k int) string    { return fmt.Sprintf("10.244.%d.0/24", k) }
func podGateway(k int) string { return fmt.Sprintf("10.244.%d.1", k) }

// Bridge MACs are fixed: a Linux bridge without one takes its lowest port's, which changes as
// pods come and go, and pods would keep sending to the gateway's old MAC until their ARP
// entries expire (cross-node traffic stalls for seconds).
const fabricMAC = "02:00:0a:64:00:fe"

func gatewayMAC(k int) string { return fmt.Sprintf("02:00:0a:f4:%02x:01", k) }

// runPrefix starts the names of every network namespace and directory this process creates,
// so that parallel test processes never collide and a later run can sweep what a killed one
// left behind.
func runPrefix() string { return namePrefix + strconv.Itoa(os.Getpid()) + "-" }

// fabric is the process-wide network all nodes hang off: a namespace with a bridge that
// routes between the nodes' pod subnets, so pods of one cluster reach the nodes and pods of
// another as if on one data-centre network.
type fabric struct {
	ns    string
	slots [maxNodes + 1]bool
	used  int
}

var (
	fabricMu  sync.Mutex
	theFabric *fabric
)

// joinFabric creates the fabric on first use, sweeps what crashed runs left, and sets up the
// network namespace of a new node: its slot, node IP on the fabric, pod bridge and routes.
func joinFabric(ctx context.Context) (slot int, nodeNS string, err error) {
	fabricMu.Lock()
	defer fabricMu.Unlock()
	if theFabric == nil {
		sweepStale(ctx)
		f := &fabric{ns: runPrefix() + "fabric"}
		if err := f.create(ctx); err != nil {
			_ = delNetns(ctx, f.ns)
			return 0, "", err
		}
		theFabric = f
	}
	f := theFabric
	for k := 1; k <= maxNodes; k++ {
		if !f.slots[k] {
			slot = k
			break
		}
	}
	if slot == 0 {
		return 0, "", errors.New("no free node slot on the fabric")
	}
	nodeNS = runPrefix() + "node" + strconv.Itoa(slot)
	if err := f.addNode(ctx, slot, nodeNS); err != nil {
		_ = delNetns(ctx, nodeNS)
		f.maybeDestroy(ctx)
		return 0, "", err
	}
	f.slots[slot] = true
	f.used++
	return slot, nodeNS, nil
}

// leaveFabric removes a node's namespace (its pods' links go with it) and, with the last
// node, the fabric.
func leaveFabric(ctx context.Context, slot int, nodeNS string) error {
	fabricMu.Lock()
	defer fabricMu.Unlock()
	f := theFabric
	err := delNetns(ctx, nodeNS)
	if f == nil || !f.slots[slot] {
		return err
	}
	if rerr := ip(ctx, "-n", f.ns, "route", "del", podCIDR(slot)); rerr != nil && err == nil {
		err = rerr
	}
	f.slots[slot] = false
	f.used--
	f.maybeDestroy(ctx)
	return err
}

func (f *fabric) maybeDestroy(ctx context.Context) {
	if f.used > 0 {
		return
	}
	_ = delNetns(ctx, f.ns)
	if theFabric == f {
		theFabric = nil
	}
}

func (f *fabric) create(ctx context.Context) error {
	if err := addNetns(ctx, f.ns); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"-n", f.ns, "link", "add", "br0", "address", fabricMAC, "type", "bridge"},
		{"-n", f.ns, "addr", "add", fabricRouter + "/24", "dev", "br0"},
		{"-n", f.ns, "link", "set", "br0", "up"},
	} {
		if err := ip(ctx, args...); err != nil {
			return err
		}
	}
	return writeSysctl(f.ns, "net/ipv4/ip_forward", "1")
}

// addNode wires node namespace ns into the fabric: veth n<k> (fabric side, on br0) / eth0
// (node side, the node IP), bridge cbr0 for the pods, forwarding on, and the fabric's route to
// the node's pod subnet.
func (f *fabric) addNode(ctx context.Context, k int, ns string) error {
	if err := addNetns(ctx, ns); err != nil {
		return err
	}
	link := "n" + strconv.Itoa(k)
	for _, args := range [][]string{
		{"-n", f.ns, "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"-n", f.ns, "link", "set", link, "master", "br0", "up"},
		{"-n", ns, "addr", "add", nodeIP(k) + "/24", "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "route", "add", "default", "via", fabricRouter},
		{"-n", ns, "link", "add", "cbr0", "address", gatewayMAC(k), "type", "bridge"},
		{"-n", ns, "addr", "add", podGateway(k) + "/24", "dev", "cbr0"},
		{"-n", ns, "link", "set", "cbr0", "up"},
		{"-n", f.ns, "route", "add", podCIDR(k), "via", nodeIP(k)},
	} {
		if err := ip(ctx, args...); err != nil {
			return err
		}
	}
	// No ICMP redirects: a Service's packets DNATed to a pod on the client's own bridge leave
	// by the interface they came in on, which makes a node send the client redirects. These
	// name the endpoint's address (DNAT comes before routing), not the ClusterIP, so traffic
	// works either way (TestServiceTraffic passes with them on). They are off only so that
	// the pods' route caches hold no redirect exceptions; nothing depends on it.
	for path, value := range map[string]string{
		"net/ipv4/ip_forward":                  "1",
		"net/ipv4/conf/all/send_redirects":     "0",
		"net/ipv4/conf/cbr0/send_redirects":    "0",
		"net/ipv4/conf/default/send_redirects": "0",
	} {
		if err := writeSysctl(ns, path, value); err != nil {
			return err
		}
	}
	return nil
}

// sweepStale deletes network namespaces and node directories whose owning process (the PID in
// their name) is gone: what a killed test left behind.
func sweepStale(ctx context.Context) {
	if entries, err := os.ReadDir(netnsDir); err == nil {
		for _, e := range entries {
			if ownerDead(e.Name()) {
				_ = delNetns(ctx, e.Name())
			}
		}
	}
	if entries, err := os.ReadDir(os.TempDir()); err == nil {
		for _, e := range entries {
			if e.IsDir() && ownerDead(e.Name()) {
				_ = os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
			}
		}
	}
}

// ownerDead reports whether name is "ferrynode-<pid>-..." for a process that no longer runs.
func ownerDead(name string) bool {
	rest, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return false
	}
	pidText, _, ok := strings.Cut(rest, "-")
	if !ok {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
