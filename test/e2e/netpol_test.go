package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/ferrymtc/ferry/hack/repo"
)

const (
	// probeTimeout bounds one connection attempt (connect and HTTP exchange): a dropped SYN
	// makes the attempt end with a timeout after it.
	probeTimeout = 1500 * time.Millisecond
	// settleTimeout bounds how long a policy change may take to show (informer, rules).
	settleTimeout = 15 * time.Second
	// seedEgressPolicy is the MTC documentation's "allow all egress from rsync pods" policy.
	seedEgressPolicy = "test/compat/testdata/seed/02-networkpolicy-egress-from-rsync-pods.yaml"
)

// endpoint is where a probe starts: a pod of c (by namespace and name), or c's node when pod
// is empty (the address the Service proxy connects from).
type endpoint struct {
	c       *cluster
	ns, pod string
}

func (e endpoint) String() string {
	if e.pod == "" {
		return "node of " + e.c.Name
	}
	return e.ns + "/" + e.pod
}

// probe connects from e to addr and does an HTTP GET, all within probeTimeout; it returns the
// response, how long it took and the error.
func probe(ctx context.Context, e endpoint, addr string) (string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	began := time.Now()
	var conn net.Conn
	var err error
	if e.pod == "" {
		conn, err = e.c.node.DialContext(ctx, "tcp", addr)
	} else {
		conn, err = e.c.node.DialFromPod(ctx, e.ns, e.pod, "tcp", addr)
	}
	if err != nil {
		return "", time.Since(began), err
	}
	defer func() { _ = conn.Close() }()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if _, err := fmt.Fprint(conn, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		return "", time.Since(began), err
	}
	b, err := io.ReadAll(conn)
	return string(b), time.Since(began), err
}

// check is an expected outcome: from reaches addr and gets a response containing want, or,
// with want empty, its connection attempt is dropped.
type check struct {
	from endpoint
	addr string
	want string
}

func reach(from endpoint, addr, want string) check { return check{from, addr, want} }
func blocked(from endpoint, addr string) check     { return check{from, addr, ""} }

// expect runs the checks at once, each retried until it holds or settleTimeout passes (policy
// changes take a moment to show). A blocked connection must fail with a timeout within the
// probe's time, as when a CNI drops packets: a refusal fails the test at once.
func expect(ctx context.Context, t *testing.T, what string, checks ...check) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(checks))
	for i, ck := range checks {
		wg.Go(func() { errs[i] = ck.run(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
}

func (ck check) run(ctx context.Context) error {
	deadline := time.Now().Add(settleTimeout)
	for {
		got, took, err := probe(ctx, ck.from, ck.addr)
		if ck.want != "" {
			if err == nil && strings.Contains(got, ck.want) {
				return nil
			}
			if time.Now().After(deadline) {
				if err != nil {
					return fmt.Errorf("%s -> %s: want a response with %q: %w", ck.from, ck.addr, ck.want, err)
				}
				return fmt.Errorf("%s -> %s: want a response with %q, got %q", ck.from, ck.addr, ck.want, got)
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		var nerr net.Error
		switch {
		case err == nil:
			if time.Now().After(deadline) {
				return fmt.Errorf("%s -> %s: want the connection dropped, got a response %q", ck.from, ck.addr, got)
			}
			time.Sleep(200 * time.Millisecond)
		case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout():
			if took > probeTimeout+time.Second {
				return fmt.Errorf("%s -> %s: the blocked attempt took %s, want about %s", ck.from, ck.addr, took, probeTimeout)
			}
			return nil
		default:
			return fmt.Errorf("%s -> %s: want a timeout (packets dropped), got %w", ck.from, ck.addr, err)
		}
	}
}

// labelledNamespace creates namespace <test namespace>-suffix with labels on c, deleted when the
// test ends.
func labelledNamespace(ctx context.Context, t *testing.T, c *cluster, base, suffix string, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: base + "-" + suffix, Labels: labels}}
	if _, err := c.Clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s on %s: %v", ns.Name, c.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Clientset.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

// idlePod is a pod that only waits (probes start from its network namespace).
func idlePod(ns, name string, labels map[string]string) *corev1.Pod {
	p := newPod(ns, name, corev1.RestartPolicyAlways, container("idle", podtool, "wait-term", "/tmp/term"))
	p.Labels = labels
	return p
}

// serverPod answers "TEXT POD" over HTTP on port 8080 (named http) and "admin POD" on 9090
// (named admin).
func serverPod(ns, name, text string) *corev1.Pod {
	web := container("web", podtool, "serve", ":8080", text)
	web.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	admin := container("admin", podtool, "serve", ":9090", "admin")
	admin.Ports = []corev1.ContainerPort{{Name: "admin", ContainerPort: 9090}}
	return newPod(ns, name, corev1.RestartPolicyAlways, web, admin)
}

// startPods creates pods on c and waits until they are all Ready; it returns their IPs by name.
func startPods(ctx context.Context, t *testing.T, c *cluster, pods ...*corev1.Pod) map[string]string {
	t.Helper()
	for _, p := range pods {
		createPod(ctx, t, c, p)
	}
	ips := map[string]string{}
	for _, p := range pods {
		ips[p.Name] = waitPod(ctx, t, c, p.Namespace, p.Name, "Ready", isReady).Status.PodIP
	}
	return ips
}

func createPolicy(ctx context.Context, t *testing.T, c *cluster, p *networkingv1.NetworkPolicy) {
	t.Helper()
	if _, err := c.Clientset.NetworkingV1().NetworkPolicies(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create NetworkPolicy %s/%s on %s: %v", p.Namespace, p.Name, c.Name, err)
	}
}

func deletePolicy(ctx context.Context, t *testing.T, c *cluster, ns, name string) {
	t.Helper()
	if err := c.Clientset.NetworkingV1().NetworkPolicies(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete NetworkPolicy %s/%s on %s: %v", ns, name, c.Name, err)
	}
}

func joinHostPort(ip string, port int32) string { return net.JoinHostPort(ip, strconv.Itoa(int(port))) }

// TestNetworkPolicyIngress checks ingress isolation: a default-deny policy drops every
// connection to the server (from pods of its namespace, of other namespaces, and from the node,
// where Service traffic comes from); an allow rule by podSelector and namespaceSelector on the
// named port admits the matching clients only, on that port only; relabelling a pod or a
// namespace takes effect; deleting the policies restores traffic.
func TestNetworkPolicyIngress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ns := namespace(ctx, t, source)
	friendsNS := labelledNamespace(ctx, t, source, ns, "friends", map[string]string{"team": "friends"})
	strangersNS := labelledNamespace(ctx, t, source, ns, "strangers", nil)
	began := time.Now()
	ips := startPods(ctx, t, source,
		serverPod(ns, "web", "from-web"),
		idlePod(ns, "client", map[string]string{"role": "client"}),
		idlePod(ns, "other", map[string]string{"role": "other"}),
		idlePod(friendsNS, "friend", nil),
		idlePod(strangersNS, "stranger", nil),
	)
	t.Logf("server and four client pods Ready in %s", time.Since(began).Round(time.Millisecond))
	web, admin := joinHostPort(ips["web"], 8080), joinHostPort(ips["web"], 9090)
	client, other := endpoint{source, ns, "client"}, endpoint{source, ns, "other"}
	friend, stranger := endpoint{source, friendsNS, "friend"}, endpoint{source, strangersNS, "stranger"}
	node := endpoint{c: source}

	began = time.Now()
	expect(ctx, t, "without policies",
		reach(client, web, "from-web"), reach(other, web, "from-web"), reach(friend, web, "from-web"),
		reach(stranger, web, "from-web"), reach(node, web, "from-web"), reach(client, admin, "admin"))

	createPolicy(ctx, t, source, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-deny"},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	})
	expect(ctx, t, "default deny ingress",
		blocked(client, web), blocked(other, web), blocked(friend, web), blocked(stranger, web), blocked(node, web))

	createPolicy(ctx, t, source, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allow-clients"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{
					{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "client"}}},
					{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "friends"}}},
				},
				Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromString("http"))}},
			}},
		},
	})
	expect(ctx, t, "allow by podSelector and namespaceSelector",
		reach(client, web, "from-web"), reach(friend, web, "from-web"),
		blocked(other, web), blocked(stranger, web), blocked(client, admin))

	patch := []byte(`{"metadata":{"labels":{"role":"client"}}}`)
	if _, err := source.Clientset.CoreV1().Pods(ns).Patch(ctx, "other", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	patch = []byte(`{"metadata":{"labels":{"team":"friends"}}}`)
	if _, err := source.Clientset.CoreV1().Namespaces().Patch(ctx, strangersNS, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	expect(ctx, t, "after relabelling a pod and a namespace", reach(other, web, "from-web"), reach(stranger, web, "from-web"))

	deletePolicy(ctx, t, source, ns, "default-deny")
	deletePolicy(ctx, t, source, ns, "allow-clients")
	expect(ctx, t, "after deleting the policies", reach(node, web, "from-web"), reach(client, admin, "admin"))
	t.Logf("policy checks done in %s", time.Since(began).Round(time.Millisecond))
}

// TestNetworkPolicyEgress checks egress isolation across clusters: a default-deny egress
// policy drops a client's connections to a pod and a NodePort of the other cluster and to a
// pod of its own; the MTC documentation's allow-egress policy for rsync pods (loaded from the
// compat seed) lets a pod labelled like an rsync transfer pod connect, from the test and from
// the pod's own command; ipBlock and podSelector egress rules open exactly their peer; deleting
// the deny policy restores traffic.
func TestNetworkPolicyEgress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ns := namespace(ctx, t, source)
	dstNS := namespace(ctx, t, destination)
	began := time.Now()
	dstSvc, dstPod := webService(ctx, t, destination, dstNS, "from-destination")
	rsyncLabels := map[string]string{"owner": "directvolumemigration", "app": "directvolumemigration-rsync-transfer"}
	ips := startPods(ctx, t, source,
		serverPod(ns, "local", "from-local"),
		idlePod(ns, "plain", map[string]string{"app": "plain"}),
		idlePod(ns, "rsync", rsyncLabels),
	)
	t.Logf("servers on both clusters and two client pods Ready in %s", time.Since(began).Round(time.Millisecond))
	dstIP, nodePort := joinHostPort(dstPod.Status.PodIP, 8080), joinHostPort(destination.node.IP(), dstSvc.Spec.Ports[0].NodePort)
	local := joinHostPort(ips["local"], 8080)
	plain, rsync := endpoint{source, ns, "plain"}, endpoint{source, ns, "rsync"}

	began = time.Now()
	expect(ctx, t, "without policies",
		reach(plain, dstIP, "from-destination"), reach(plain, nodePort, "from-destination"), reach(plain, local, "from-local"),
		reach(rsync, nodePort, "from-destination"))

	createPolicy(ctx, t, source, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deny-egress"},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}},
	})
	seed := loadSeedPolicy(t, seedEgressPolicy)
	seed.Namespace = ns
	createPolicy(ctx, t, source, seed)
	expect(ctx, t, "default deny egress with the seed's rsync policy",
		blocked(plain, dstIP), blocked(plain, nodePort), blocked(plain, local),
		reach(rsync, dstIP, "from-destination"), reach(rsync, nodePort, "from-destination"), reach(rsync, local, "from-local"))

	// A transfer pod's own process connects too: podtool get fails unless it gets an answer.
	transfer := newPod(ns, "transfer", corev1.RestartPolicyNever, container("get", podtool, "get", url(destination.node.IP(), dstSvc.Spec.Ports[0].NodePort)))
	transfer.Labels = rsyncLabels
	createPod(ctx, t, source, transfer)
	done := waitPod(ctx, t, source, ns, "transfer", "finished", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	})
	if got := logs(ctx, t, source, ns, "transfer", "get", false); done.Status.Phase != corev1.PodSucceeded || !strings.Contains(got, "from-destination") {
		t.Errorf("rsync-labelled pod's GET of the other cluster's NodePort: %s; log: %q", describe(done), got)
	}

	createPolicy(ctx, t, source, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "plain-out"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "plain"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{
					To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: destination.node.IP() + "/32"}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(dstSvc.Spec.Ports[0].NodePort))}},
				},
				{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "local"}}}}},
			},
		},
	})
	expect(ctx, t, "allow egress by ipBlock and podSelector",
		reach(plain, nodePort, "from-destination"), reach(plain, local, "from-local"), blocked(plain, dstIP))

	deletePolicy(ctx, t, source, ns, "deny-egress")
	deletePolicy(ctx, t, source, ns, "plain-out")
	expect(ctx, t, "after deleting the deny policy", reach(plain, dstIP, "from-destination"))
	t.Logf("policy checks done in %s", time.Since(began).Round(time.Millisecond))
}

func loadSeedPolicy(t *testing.T, rel string) *networkingv1.NetworkPolicy {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	var p networkingv1.NetworkPolicy
	if err := yaml.UnmarshalStrict(b, &p); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return &p
}
