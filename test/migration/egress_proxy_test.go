package migration_test

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/node"
)

// egressProxy is an HTTP proxy in front of the source cluster, as a corporate proxy stands
// between a data centre and the outside: fixtures.Proxy behind a NodePort Service, so that it
// reaches what the source's network reaches (the API server, by migenv.SourceAPIHost) while
// the destination's pods reach it at the source node's address.
type egressProxy struct {
	*fixtures.Proxy
	// URL is what a MigrationController's httpProxy and httpsProxy hold.
	URL string
}

const (
	egressProxyUser     = "ferry"
	egressProxyPassword = "corp-Pa55"
	egressProxyPort     = 3128
)

// startEgressProxy runs the proxy in namespace on the source with basic authentication, which
// lets through only the hosts matching allowed (tinyproxy filter rules) and CONNECT only to
// connectPorts. It returns once the proxy accepts connections.
func startEgressProxy(namespace string, allowed []string, connectPorts ...int) *egressProxy {
	GinkgoHelper()
	src := env.Source.Client
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(src.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}))).To(Succeed())
	})
	proxy, err := fixtures.StartProxy(ctx, src, env.Source.Clientset, fixtures.ProxyOptions{
		Namespace: namespace, Port: egressProxyPort, User: egressProxyUser, Password: egressProxyPassword,
		ServiceType: corev1.ServiceTypeNodePort, ConnectPorts: connectPorts, Allowed: allowed,
	})
	Expect(err).NotTo(HaveOccurred())
	u := url.URL{Scheme: "http", User: url.UserPassword(egressProxyUser, egressProxyPassword),
		Host: net.JoinHostPort(sourceNodeIP(), strconv.Itoa(int(proxy.Service.Spec.Ports[0].NodePort)))}
	return &egressProxy{Proxy: proxy, URL: u.String()}
}

// log is the proxy's log.
func (p *egressProxy) log() string {
	GinkgoHelper()
	log, err := p.Log(ctx)
	Expect(err).NotTo(HaveOccurred())
	return log
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
