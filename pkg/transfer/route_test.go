package transfer

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRoute(t *testing.T) {
	srv := Server{Namespace: "dst", Name: "ferry-rsync-server-abc", Labels: map[string]string{"directvolumemigration": "u"}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: srv.Name, UID: "svc-uid"}}
	r := srv.Route(svc, "h.apps.example.com")
	if tls, _, _ := unstructured.NestedString(r.Object, "spec", "tls", "termination"); tls != "passthrough" {
		t.Errorf("termination %q", tls)
	}
	if to, _, _ := unstructured.NestedString(r.Object, "spec", "to", "name"); to != srv.Name {
		t.Errorf("to %q", to)
	}
	if refs := r.GetOwnerReferences(); len(refs) != 1 || refs[0].UID != "svc-uid" || refs[0].Kind != "Service" {
		t.Errorf("owner %+v", refs)
	}
	if r.GetLabels()[LabelPurpose] != PurposeRsync {
		t.Errorf("labels %v", r.GetLabels())
	}
	if AdmittedHost(r) != "" {
		t.Error("admitted before any router did")
	}
	r.Object["status"] = map[string]any{"ingress": []any{
		map[string]any{"host": "other", "conditions": []any{map[string]any{"type": "Admitted", "status": "False"}}},
		map[string]any{"host": "h.apps.example.com", "conditions": []any{map[string]any{"type": "Admitted", "status": "True"}}},
	}}
	if got := AdmittedHost(r); got != "h.apps.example.com" {
		t.Errorf("AdmittedHost = %q", got)
	}
	seen := map[string]string{}
	for _, ns := range []string{strings.Repeat("n", 60), strings.Repeat("n", 59) + "x", strings.Repeat("n", 40) + "-" + strings.Repeat("m", 19), "shop"} {
		host := RouteHost("ferry-rsync-server-0123456789", ns, "apps.example.com")
		label, _, _ := strings.Cut(host, ".")
		if len(label) > 63 || strings.HasSuffix(label, "-") {
			t.Errorf("RouteHost label %q for namespace %s", label, ns)
		}
		if other, dup := seen[host]; dup {
			t.Errorf("namespaces %s and %s share the route host %s", other, ns, host)
		}
		seen[host] = ns
	}
	if got := RouteHost("ferry-rsync-server-0123456789", "shop", "apps.example.com"); got != "ferry-rsync-server-0123456789-shop.apps.example.com" {
		t.Errorf("a short namespace's host is <name>-<namespace>: %s", got)
	}
	if conf := must(ClientStunnelConf(Endpoint{Host: "h.apps.example.com", Port: RoutePort, SNI: "h.apps.example.com"}, nil)); !strings.Contains(conf, "sni = h.apps.example.com") ||
		!strings.Contains(conf, "connect = h.apps.example.com:443") || !strings.Contains(conf, "checkHost = "+ServerName) {
		t.Errorf("client stunnel.conf for a Route:\n%s", conf)
	}
}
