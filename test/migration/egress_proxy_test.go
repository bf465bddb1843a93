package migration_test

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/test/node"
)

// egressProxy is an HTTP proxy in front of the source cluster, as a corporate proxy stands
// between a data centre and the outside: tinyproxy, run as a pod of the source cluster behind
// a NodePort Service, so that it reaches what the source's network reaches (the API server,
// by migenv.SourceAPIHost) while the destination's pods reach it at the source node's
// address. A pod rather than a host process: the pod resolves the API server's name through
// its own /etc/hosts (test/node's SetHost), which a host process could only get from the
// machine's, and it sits where a corporate proxy does, in the source's network.
type egressProxy struct {
	namespace, name string
	// URL is what a MigrationController's httpProxy and httpsProxy hold.
	URL string
}

const (
	egressProxyUser     = "ferry"
	egressProxyPassword = "corp-Pa55"
	egressProxyPort     = 3128
)

// startEgressProxy runs tinyproxy in namespace on the source with basic authentication, which
// lets through only the hosts matching allowed (tinyproxy filter rules: POSIX basic regular
// expressions over the host name; the rest is refused with 403 "Filtered") and CONNECT only
// to connectPorts. It returns once the proxy accepts connections.
func startEgressProxy(namespace string, allowed []string, connectPorts ...int) *egressProxy {
	GinkgoHelper()
	p := &egressProxy{namespace: namespace, name: "tinyproxy"}
	conf := []string{
		fmt.Sprintf("Port %d", egressProxyPort),
		"Listen 0.0.0.0",
		"Timeout 600",
		"MaxClients 50",
		// Connect logs each request, each tunnel opened and each refusal.
		"LogLevel Connect",
		fmt.Sprintf("BasicAuth %s %s", egressProxyUser, egressProxyPassword),
		"FilterDefaultDeny Yes",
		`Filter "/etc/tinyproxy/filter"`,
	}
	for _, port := range connectPorts {
		conf = append(conf, fmt.Sprintf("ConnectPort %d", port))
	}
	labels := map[string]string{"app": p.name}
	src := env.Source.Client
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: p.name}, Data: map[string]string{
			"tinyproxy.conf": strings.Join(conf, "\n") + "\n",
			"filter":         strings.Join(allowed, "\n") + "\n",
		}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: p.name, Labels: labels}, Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](2),
			Containers: []corev1.Container{{
				Name: p.name, Image: "registry.example/tinyproxy:1.11",
				Command:      []string{"/usr/bin/tinyproxy", "-d", "-c", "/etc/tinyproxy/tinyproxy.conf"},
				Ports:        []corev1.ContainerPort{{Name: "proxy", ContainerPort: egressProxyPort}},
				VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/tinyproxy", ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: p.name},
			}}}},
		}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: p.name}, Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "proxy", Port: egressProxyPort, TargetPort: intstr.FromInt32(egressProxyPort)}},
		}},
	}
	for _, obj := range objs {
		Expect(src.Create(ctx, obj)).To(Succeed(), "create %T %s", obj, obj.GetName())
	}
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(src.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}))).To(Succeed())
	})
	// At LogLevel Connect this is the last line before tinyproxy listens.
	Eventually(p.readLog).WithTimeout(time.Minute).Should(ContainSubstring("Reloading config file finished"))
	Eventually(func(g Gomega) {
		slices := &discoveryv1.EndpointSliceList{}
		g.Expect(src.List(ctx, slices, client.InNamespace(namespace), client.MatchingLabels{discoveryv1.LabelServiceName: p.name})).To(Succeed())
		ready := 0
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if ptr.Deref(e.Conditions.Ready, false) {
					ready++
				}
			}
		}
		g.Expect(ready).To(Equal(1), "ready endpoints of the proxy Service")
	}).WithTimeout(time.Minute).Should(Succeed())
	svc := &corev1.Service{}
	Expect(src.Get(ctx, client.ObjectKey{Namespace: namespace, Name: p.name}, svc)).To(Succeed())
	Expect(svc.Spec.Ports).To(HaveLen(1))
	u := url.URL{Scheme: "http", User: url.UserPassword(egressProxyUser, egressProxyPassword),
		Host: net.JoinHostPort(sourceNodeIP(), strconv.Itoa(int(svc.Spec.Ports[0].NodePort)))}
	p.URL = u.String()
	return p
}

// log is tinyproxy's log, read through the pod log API.
func (p *egressProxy) log() string {
	GinkgoHelper()
	log, err := p.readLog()
	Expect(err).NotTo(HaveOccurred())
	return log
}

func (p *egressProxy) readLog() (string, error) {
	b, err := env.Source.Clientset.CoreV1().Pods(p.namespace).GetLogs(p.name, &corev1.PodLogOptions{Container: p.name}).DoRaw(ctx)
	return string(b), err
}

// connects counts the CONNECT requests for hostport in the proxy's log.
func (p *egressProxy) connects(hostport string) int {
	GinkgoHelper()
	return len(regexp.MustCompile(`CONNECT `+regexp.QuoteMeta(hostport)+` HTTP/1\.1`).FindAllStringIndex(p.log(), -1))
}

// filtered counts the requests for host the proxy refused by its filter.
func (p *egressProxy) filtered(host string) int {
	GinkgoHelper()
	return strings.Count(p.log(), `filtered domain "`+host+`"`)
}

// sourceNodeIP is the InternalIP of the source cluster's node, where its NodePorts are reached.
func sourceNodeIP() string {
	GinkgoHelper()
	n := &corev1.Node{}
	Expect(env.Source.Client.Get(ctx, client.ObjectKey{Name: node.DefaultName}, n)).To(Succeed())
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	Fail("node " + n.Name + " has no InternalIP")
	return ""
}
