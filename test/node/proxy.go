package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// proxy is the node's kube-proxy, in the node's network namespace. A Service port whose
// endpoints are pods or nodes is served by the kernel: DNAT rules in the namespace's nat table
// (dnat.go), rewritten when Services or EndpointSlices (kube-controller-manager writes them)
// change. The others, the `kubernetes` Service (the API server listens on the host's
// loopback) and Services with loopback endpoints, get a userspace listener: each ClusterIP is
// an address on the namespace's loopback (pods route there through their gateway) with a
// listener per Service port, each NodePort a listener on all the node namespace's addresses,
// and a connection is dialled from the host to a random ready endpoint.
type proxy struct {
	n        *Node
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	kick     chan struct{}

	listeners map[string]*svcListener // by listen address
	addrs     map[string]bool         // ClusterIPs on the loopback
	nat       string                  // the nat table as last written (natRules)
}

// svcListener serves one listen address; its target can change under it.
type svcListener struct {
	fwd    *forwarder
	target atomic.Pointer[svcTarget]
}

// svcTarget is a Service port, named as EndpointSlices name it.
type svcTarget struct{ namespace, service, port string }

// isAPIServer says whether t is the `kubernetes` Service, whose API server listens on the
// host's loopback, which it does not advertise: only the userspace proxy reaches it.
func (t svcTarget) isAPIServer() bool {
	return t.namespace == metav1.NamespaceDefault && t.service == "kubernetes"
}

func startProxy(ctx context.Context, n *Node) (*proxy, error) {
	factory := informers.NewSharedInformerFactory(n.cs, 0)
	p := &proxy{
		n: n, services: factory.Core().V1().Services().Lister(), slices: factory.Discovery().V1().EndpointSlices().Lister(),
		kick:      make(chan struct{}, 1),
		listeners: map[string]*svcListener{}, addrs: map[string]bool{},
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { p.poke() },
		UpdateFunc: func(any, any) { p.poke() },
		DeleteFunc: func(any) { p.poke() },
	}
	if _, err := factory.Core().V1().Services().Informer().AddEventHandler(handler); err != nil {
		return nil, err
	}
	if _, err := factory.Discovery().V1().EndpointSlices().Informer().AddEventHandler(handler); err != nil {
		return nil, err
	}
	factory.Start(n.ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("proxy of node %s: %v informer did not sync", n.name, typ)
		}
	}
	p.sync()
	n.syncLoop(factory, p.kick, p.sync)
	return p, nil
}

func (p *proxy) poke() { poke(p.kick) }

// sync serves each Service port: in the kernel (a DNAT to its endpoints, as kube-proxy's
// iptables mode) when it can, else with a userspace listener; it closes what no Service wants.
func (p *proxy) sync() {
	services, err := p.services.List(labels.Everything())
	if err != nil {
		return
	}
	listen := map[string]svcTarget{}
	var kernel []dnatService
	for _, svc := range services {
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		for _, port := range svc.Spec.Ports {
			if port.Protocol != "" && port.Protocol != corev1.ProtocolTCP {
				continue
			}
			t := svcTarget{svc.Namespace, svc.Name, port.Name}
			var clusterIPs []string
			for _, cip := range svc.Spec.ClusterIPs {
				if parsed := net.ParseIP(cip); parsed != nil && parsed.To4() != nil {
					clusterIPs = append(clusterIPs, cip)
				}
			}
			if eps := p.endpoints(t); kernelServed(t, eps) {
				kernel = append(kernel, dnatService{
					key: svc.Namespace + "/" + svc.Name + ":" + port.Name, clusterIPs: clusterIPs,
					port: int(port.Port), nodePort: int(port.NodePort), endpoints: eps,
				})
				continue
			}
			for _, cip := range clusterIPs {
				listen[net.JoinHostPort(cip, strconv.Itoa(int(port.Port)))] = t
			}
			if port.NodePort != 0 {
				listen[net.JoinHostPort("0.0.0.0", strconv.Itoa(int(port.NodePort)))] = t
			}
		}
	}
	p.syncKernel(kernel)
	p.syncListeners(listen)
}

// syncKernel writes the nat table when the kernel-served Services changed.
func (p *proxy) syncKernel(services []dnatService) {
	rules := natRules(services)
	if rules == p.nat {
		return
	}
	if err := replaceNAT(p.n.ctx, p.n.netns, rules); err != nil {
		if p.n.ctx.Err() == nil {
			p.n.logf("process node %s: proxy: %v", p.n.name, err)
		}
		return
	}
	p.nat = rules
}

// syncListeners opens the userspace listeners want names and closes the others.
func (p *proxy) syncListeners(want map[string]svcTarget) {
	ctx := p.n.ctx
	for addr, l := range p.listeners {
		if _, ok := want[addr]; !ok {
			l.fwd.Close()
			delete(p.listeners, addr)
		}
	}
	p.syncAddrs(ctx, want)
	for addr, t := range want {
		if l := p.listeners[addr]; l != nil {
			l.target.Store(&t)
			continue
		}
		ln, err := listenIn(ctx, p.n.netns, addr)
		if err != nil {
			if ctx.Err() == nil {
				p.n.logf("process node %s: proxy: %v", p.n.name, err)
			}
			continue
		}
		l := &svcListener{}
		l.target.Store(&t)
		l.fwd = serveForward(ln, func(ctx context.Context) (net.Conn, error) { return p.dial(ctx, *l.target.Load()) })
		p.listeners[addr] = l
	}
}

// syncAddrs puts on the loopback the ClusterIPs wanted and removes the others.
func (p *proxy) syncAddrs(ctx context.Context, want map[string]svcTarget) {
	ips := map[string]bool{}
	for addr := range want {
		host, _, _ := net.SplitHostPort(addr)
		if host != "0.0.0.0" {
			ips[host] = true
		}
	}
	for ipAddr := range p.addrs {
		if !ips[ipAddr] {
			_ = ip(ctx, "-n", p.n.netns, "addr", "del", ipAddr+"/32", "dev", "lo")
			delete(p.addrs, ipAddr)
		}
	}
	for ipAddr := range ips {
		if p.addrs[ipAddr] {
			continue
		}
		if err := ip(ctx, "-n", p.n.netns, "addr", "add", ipAddr+"/32", "dev", "lo"); err != nil && !strings.Contains(err.Error(), "File exists") {
			p.n.logf("process node %s: proxy: %v", p.n.name, err)
			continue
		}
		p.addrs[ipAddr] = true
	}
}

// dial connects to a ready endpoint of t, trying them in random order.
func (p *proxy) dial(ctx context.Context, t svcTarget) (net.Conn, error) {
	if t.isAPIServer() {
		// The API server on the host publishes a placeholder address (it listens on the
		// loopback, which it does not advertise).
		return dialIn(ctx, "", p.n.apiAddr)
	}
	eps := p.endpoints(t)
	if len(eps) == 0 {
		return nil, fmt.Errorf("service %s/%s port %q has no ready endpoints", t.namespace, t.service, t.port)
	}
	rand.Shuffle(len(eps), func(i, j int) { eps[i], eps[j] = eps[j], eps[i] })
	var errs []error
	for _, ep := range eps {
		host, _, _ := net.SplitHostPort(ep)
		ns := p.n.netns
		if parsed := net.ParseIP(host); parsed != nil && parsed.IsLoopback() {
			ns = ""
		}
		c, err := dialIn(ctx, ns, ep)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// endpoints lists host:port of t's ready IPv4 endpoints.
func (p *proxy) endpoints(t svcTarget) []string {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: t.service})
	slices, err := p.slices.EndpointSlices(t.namespace).List(sel)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range slices {
		if s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		var port int32
		for _, sp := range s.Ports {
			if ptr.Deref(sp.Name, "") == t.port && sp.Port != nil {
				port = *sp.Port
			}
		}
		if port == 0 {
			continue
		}
		for _, ep := range s.Endpoints {
			if ptr.Deref(ep.Conditions.Ready, true) && len(ep.Addresses) > 0 {
				out = append(out, net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(port))))
			}
		}
	}
	return out
}

// close stops every listener (the node's namespace and its addresses go with Stop).
func (p *proxy) close() {
	for addr, l := range p.listeners {
		l.fwd.Close()
		delete(p.listeners, addr)
	}
}

// syncLoop runs sync each time kick fires, until the node stops; then it shuts the informers
// of factory down.
func (n *Node) syncLoop(factory informers.SharedInformerFactory, kick <-chan struct{}, sync func()) {
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		defer factory.Shutdown()
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-kick:
				sync()
			}
		}
	}()
}

// poke asks a syncLoop for a sync without blocking: requests made while one is pending
// coalesce.
func poke(kick chan<- struct{}) {
	select {
	case kick <- struct{}{}:
	default:
	}
}
