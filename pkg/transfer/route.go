package transfer

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// RouteGVK is OpenShift's Route. Routes are handled as unstructured objects: the operator
// needs four fields of one kind, not OpenShift's API module.
var RouteGVK = schema.GroupVersionKind{Group: "route.openshift.io", Version: "v1", Kind: "Route"}

// RoutePort is where a router accepts TLS for Routes.
const RoutePort = 443

// Route exposes the server's Service svc through the cluster's router with passthrough TLS:
// the router picks the Service by the SNI the client sends and never decrypts, so the
// server's and client's certificates still authenticate each end. host is the Route's host,
// or "" for the router's default (<name>-<namespace>.<router domain>). The Route is owned by
// the Service, so it goes when the Service is deleted.
func (s Server) Route(svc *corev1.Service, host string) *unstructured.Unstructured {
	r := &unstructured.Unstructured{}
	r.SetGroupVersionKind(RouteGVK)
	r.SetNamespace(s.Namespace)
	r.SetName(s.Name)
	r.SetLabels(s.serverLabels())
	r.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
		BlockOwnerDeletion: ptr.To(false)}})
	spec := map[string]any{
		"to":   map[string]any{"kind": "Service", "name": svc.Name, "weight": int64(100)},
		"port": map[string]any{"targetPort": "stunnel"},
		"tls":  map[string]any{"termination": "passthrough"},
	}
	if host != "" {
		spec["host"] = host
	}
	r.Object["spec"] = spec
	return r
}

// dnsLabel is the longest DNS label, which a Route host's first label must fit.
const dnsLabel = 63

// MaxRoutedNamespace is the longest namespace whose rsync Route host, as a router names it
// without a subdomain (<route name>-<namespace>), fits a DNS label. MTC's 59 was for its
// "dvm-" prefix; Ferry's Route name is Names.Server's.
const MaxRoutedNamespace = dnsLabel - len("ferry-rsync-server-") - idLength - len("-")

// RouteHost is the Route's host under subdomain (MTC's cluster_subdomain): the server name
// and the namespace. When that is longer than a DNS label, the namespace is cut and a hash of
// the whole namespace is appended (MTC used an MD5), so two long namespaces that share a
// prefix never share a host.
func RouteHost(name, namespace, subdomain string) string {
	label := name + "-" + namespace
	if len(label) > dnsLabel {
		hash := MD5(namespace)[:8]
		keep := max(0, dnsLabel-len(name)-len("-")-len("-")-len(hash))
		label = strings.TrimRight(name+"-"+namespace[:min(keep, len(namespace))], "-") + "-" + hash
	}
	return label + "." + subdomain
}

// AdmittedHost returns the host a router admitted the Route under, or "" while none has.
func AdmittedHost(route *unstructured.Unstructured) string {
	ingresses, _, _ := unstructured.NestedSlice(route.Object, "status", "ingress")
	for _, raw := range ingresses {
		ing, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		conds, _, _ := unstructured.NestedSlice(ing, "conditions")
		for _, rc := range conds {
			c, ok := rc.(map[string]any)
			if ok && c["type"] == "Admitted" && c["status"] == "True" {
				if host, _ := ing["host"].(string); host != "" {
					return host
				}
				host, _, _ := unstructured.NestedString(route.Object, "spec", "host")
				return host
			}
		}
	}
	return ""
}
