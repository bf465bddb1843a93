package node

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
)

// iptablesRestore is the command that writes a pod's rules, run inside the pod's network
// namespace with `ip netns exec`. The legacy (xtables) backend, whatever the host's iptables
// alternative is.
const iptablesRestore = "iptables-legacy-restore"

// netpol enforces NetworkPolicies (networking.k8s.io/v1) on the node's pods, as a CNI plugin
// would: each pod's network namespace gets a filter table whose INPUT jumps to FERRY-INGRESS
// and OUTPUT to FERRY-EGRESS (netpol_rules.go computes them). Informers on every pod,
// namespace and NetworkPolicy of the cluster trigger a recomputation of every local pod's
// rules; a pod's chains are rewritten (flushed and refilled in one iptables-restore) only when
// their text changes, and a pod no policy selects gets no rules at all.
type netpol struct {
	n          *Node
	pods       corelisters.PodLister
	namespaces corelisters.NamespaceLister
	policies   networkinglisters.NetworkPolicyLister
	kick       chan struct{}

	mu    sync.Mutex
	local map[types.UID]*netpolPod
}

// netpolPod is a local pod whose sandbox exists.
type netpolPod struct {
	pod     *corev1.Pod // as the worker had it; the informer's newer copy wins
	netns   string
	jumps   bool   // INPUT and OUTPUT jump to the chains
	applied string // the chains' rules as last written (restore text without the jumps)
}

func startNetpol(ctx context.Context, n *Node) (*netpol, error) {
	if _, err := exec.LookPath(iptablesRestore); err != nil {
		return nil, fmt.Errorf("the process node needs %s (Debian package iptables) to enforce NetworkPolicies: %w", iptablesRestore, err)
	}
	factory := informers.NewSharedInformerFactory(n.cs, 0)
	p := &netpol{
		n: n, pods: factory.Core().V1().Pods().Lister(), namespaces: factory.Core().V1().Namespaces().Lister(),
		policies: factory.Networking().V1().NetworkPolicies().Lister(),
		kick:     make(chan struct{}, 1), local: map[types.UID]*netpolPod{},
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { p.poke() },
		UpdateFunc: func(any, any) { p.poke() },
		DeleteFunc: func(any) { p.poke() },
	}
	for _, inf := range []cache.SharedIndexInformer{
		factory.Core().V1().Pods().Informer(),
		factory.Core().V1().Namespaces().Informer(),
		factory.Networking().V1().NetworkPolicies().Informer(),
	} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, err
		}
	}
	factory.Start(n.ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			factory.Shutdown()
			return nil, fmt.Errorf("network policies of node %s: %v informer did not sync", n.name, typ)
		}
	}
	n.syncLoop(factory, p.kick, p.sync)
	return p, nil
}

func (p *netpol) poke() { poke(p.kick) }

// attach writes the rules of a pod whose network namespace was just created, before any of
// its containers starts; an error fails the sandbox (the worker retries).
func (p *netpol) attach(ctx context.Context, pod *corev1.Pod, netns string) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e := &netpolPod{pod: pod, netns: netns}
	if err := p.apply(ctx, e, p.view()); err != nil {
		return err
	}
	p.local[pod.UID] = e
	p.poke() // its IP may be a peer in other pods' rules
	return nil
}

// detach forgets a pod whose network namespace is about to go.
func (p *netpol) detach(uid types.UID) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.local[uid]; ok {
		delete(p.local, uid)
		p.poke()
	}
}

// sync brings every local pod's rules up to date.
func (p *netpol) sync() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.local) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(p.n.ctx, apiTimeout)
	defer cancel()
	view := p.view()
	failed := false
	for _, e := range p.local {
		if err := p.apply(ctx, e, view); err != nil && p.n.ctx.Err() == nil {
			p.n.logf("process node %s: pod %s/%s: network policy: %v", p.n.name, e.pod.Namespace, e.pod.Name, err)
			failed = true
		}
	}
	if failed {
		// e.applied is unchanged: the next sync tries again.
		time.AfterFunc(retryInterval, p.poke)
	}
}

// apply computes a pod's rules and writes them if they changed.
func (p *netpol) apply(ctx context.Context, e *netpolPod, view policyView) error {
	pod := e.pod
	if cur, err := p.pods.Pods(pod.Namespace).Get(pod.Name); err == nil && cur.UID == pod.UID {
		pod = cur
		e.pod = cur
	}
	rules := computeRules(toPolicyPod(pod, ""), view)
	if !e.jumps && rules.open() {
		return nil // nothing written yet and nothing to write
	}
	text := rules.restore(false)
	if e.jumps && text == e.applied {
		return nil
	}
	if err := iptablesIn(ctx, e.netns, rules.restore(!e.jumps)); err != nil {
		return err
	}
	e.jumps, e.applied = true, text
	p.n.logf("process node %s: pod %s/%s: network policy: %s", p.n.name, pod.Namespace, pod.Name, summary(rules))
	return nil
}

func summary(r podRules) string {
	dir := func(isolated bool, rules []accept) string {
		if !isolated {
			return "open"
		}
		return fmt.Sprintf("%d allow rules", len(rules))
	}
	return "ingress " + dir(r.IngressIsolated, r.Ingress) + ", egress " + dir(r.EgressIsolated, r.Egress)
}

// view collects the cluster as policies see it, sorted so that rules render stably. A pod's
// IP is the one in its status or, for a local pod whose status does not say yet, the
// sandbox's; finished pods (whose IPs are free for reuse) are left out.
func (p *netpol) view() policyView {
	v := policyView{Namespaces: map[string]map[string]string{}}
	if pods, err := p.pods.List(labels.Everything()); err == nil {
		for _, pod := range pods {
			if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
				continue
			}
			ipAddr := pod.Status.PodIP
			if ipAddr == "" && pod.Spec.NodeName == p.n.name {
				ipAddr = p.n.podIP(pod.UID)
			}
			if ipAddr != "" {
				v.Pods = append(v.Pods, toPolicyPod(pod, ipAddr))
			}
		}
	}
	sort.Slice(v.Pods, func(i, j int) bool {
		a, b := v.Pods[i], v.Pods[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	if namespaces, err := p.namespaces.List(labels.Everything()); err == nil {
		for _, ns := range namespaces {
			v.Namespaces[ns.Name] = ns.Labels
		}
	}
	if policies, err := p.policies.List(labels.Everything()); err == nil {
		v.Policies = policies
	}
	sort.Slice(v.Policies, func(i, j int) bool {
		a, b := v.Policies[i], v.Policies[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	return v
}

func toPolicyPod(pod *corev1.Pod, ipAddr string) policyPod {
	pp := policyPod{Namespace: pod.Namespace, Name: pod.Name, Labels: pod.Labels, IP: ipAddr}
	for _, c := range pod.Spec.Containers {
		pp.Ports = append(pp.Ports, c.Ports...)
	}
	return pp
}

// iptablesIn feeds rules to iptables-legacy-restore --noflush inside the named network
// namespace (-w: the xtables lock is shared by every namespace of the machine).
func iptablesIn(ctx context.Context, netns, rules string) error {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", netns, iptablesRestore, "-w", "10", "--noflush")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s in %s: %w: %s", iptablesRestore, netns, err, bytes.TrimSpace(out))
	}
	return nil
}

// DialFromPod opens a TCP connection to addr from inside the network namespace of a running
// pod of this node, as a process of the pod would: the pod's egress rules and the peer's
// ingress rules apply to it. Tests use it to check NetworkPolicies without a client command.
func (n *Node) DialFromPod(ctx context.Context, namespace, pod, network, addr string) (net.Conn, error) {
	if network != "tcp" && network != "tcp4" {
		return nil, fmt.Errorf("network %s: only tcp is supported", network)
	}
	n.mu.Lock()
	w := n.byName[namespace+"/"+pod]
	n.mu.Unlock()
	if w == nil {
		return nil, fmt.Errorf("pod %s/%s does not run on node %s", namespace, pod, n.name)
	}
	w.mu.Lock()
	sb := w.sb
	w.mu.Unlock()
	if sb == nil {
		return nil, fmt.Errorf("pod %s/%s has no network namespace", namespace, pod)
	}
	return dialIn(ctx, sb.ns, addr)
}
