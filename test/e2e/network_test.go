package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
)

// webService deploys one replica of a server answering text on c, exposes it with a NodePort
// Service on port 80, waits until the Service has a ready endpoint, and returns the Service
// and the server pod.
func webService(ctx context.Context, t *testing.T, c *cluster, ns, text string) (*corev1.Service, corev1.Pod) {
	t.Helper()
	if _, err := c.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", text, 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: corev1.ServiceSpec{
		Type:     corev1.ServiceTypeNodePort,
		Selector: map[string]string{"app": "web"},
		Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
	}}
	svc, err := c.Clientset.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := readyPods(ctx, t, c, ns, "web", 1)[0]
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		slices, err := c.Clientset.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=web"})
		if err != nil {
			return false, nil //nolint:nilerr // retried until the timeout
		}
		for _, s := range slices.Items {
			for _, ep := range s.Endpoints {
				if len(ep.Addresses) > 0 && ep.Addresses[0] == pod.Status.PodIP {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("service %s/web on %s has no endpoint for pod %s: %v", ns, c.Name, pod.Name, err)
	}
	return svc, pod
}

func url(host string, port int32) string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(int(port))) + "/"
}

// TestServiceTraffic checks pod networking: a pod reaches another pod by IP, a Service by
// ClusterIP and by NodePort, the NodePort of a Service of the other cluster, and its own API
// server as an in-cluster client would.
func TestServiceTraffic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ns := namespace(ctx, t, source)
	dstNS := namespace(ctx, t, destination)
	began := time.Now()
	srcSvc, srcPod := webService(ctx, t, source, ns, "from-source")
	dstSvc, dstPod := webService(ctx, t, destination, dstNS, "from-destination")
	t.Logf("a server and its NodePort Service on each cluster ready in %s", time.Since(began).Round(time.Millisecond))

	// The in-cluster API call needs permission to read pods.
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-view"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "default"}}}
	if _, err := source.Clientset.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	targets := []struct{ what, url, want string }{
		{"pod IP", url(srcPod.Status.PodIP, 8080), "from-source " + srcPod.Name},
		{"ClusterIP", url(srcSvc.Spec.ClusterIP, 80), "from-source " + srcPod.Name},
		{"NodePort", url(source.node.IP(), srcSvc.Spec.Ports[0].NodePort), "from-source " + srcPod.Name},
		{"pod IP in the other cluster", url(dstPod.Status.PodIP, 8080), "from-destination " + dstPod.Name},
		{"NodePort of the other cluster", url(destination.node.IP(), dstSvc.Spec.Ports[0].NodePort), "from-destination " + dstPod.Name},
		{"host loopback server", url("127.0.0.1", int32(hostPort)), "from-host"},
	}
	args := []string{podtool, "get"}
	for _, tg := range targets {
		args = append(args, tg.url)
	}
	client := newPod(ns, "client", corev1.RestartPolicyNever, container("get", args...), container("api", podtool, "api"))
	began = time.Now()
	createPod(ctx, t, source, client)
	waitPod(ctx, t, source, ns, "client", "Succeeded", phaseIs(corev1.PodSucceeded))
	t.Logf("client pod done in %s", time.Since(began).Round(time.Millisecond))

	got := logs(ctx, t, source, ns, "client", "get", false)
	for _, tg := range targets {
		if want := tg.url + " " + tg.want + "\n"; !strings.Contains(got, want) {
			t.Errorf("%s: client log lacks %q; log:\n%s", tg.what, want, got)
		}
	}
	if got := logs(ctx, t, source, ns, "client", "api", false); !strings.HasPrefix(got, "api 200 ") {
		t.Errorf("in-cluster API call from the pod: %q, want status 200", got)
	}

	// The kubernetes Service's ClusterIP leads to the API server (whose certificate names
	// localhost, not the ClusterIP).
	apiConn, err := source.node.DialContext(ctx, "tcp", "10.0.0.1:443")
	if err != nil {
		t.Fatalf("dial the kubernetes Service from the node: %v", err)
	}
	defer func() { _ = apiConn.Close() }()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(source.CABundle())
	if err := tls.Client(apiConn, &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}).HandshakeContext(ctx); err != nil {
		t.Errorf("TLS through the kubernetes Service's ClusterIP: %v", err)
	}

	// The node's namespace reaches the same addresses (what a hostNetwork process would see).
	conn, err := source.node.DialContext(ctx, "tcp", net.JoinHostPort(srcSvc.Spec.ClusterIP, "80"))
	if err != nil {
		t.Fatalf("dial the ClusterIP from the node: %v", err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := fmt.Fprintf(conn, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, _ := conn.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.0 200 OK") {
		t.Errorf("GET through the ClusterIP from the node: %q", buf[:n])
	}
}
