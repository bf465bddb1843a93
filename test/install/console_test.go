package install

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestConsoleManifests checks what config/console grants: nothing. Its ServiceAccount has no
// token in the pod and no binding anywhere, and the pod runs the operator's image in console
// mode; the OpenShift overlay adds a passthrough Route.
func TestConsoleManifests(t *testing.T) {
	objs, err := Build("config/console")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		kinds[o.GetKind()] = o
		switch o.GetKind() {
		case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
			t.Errorf("config/console grants %s %s: the console must act only as its users", o.GetKind(), o.GetName())
		}
	}
	for _, k := range []string{"ServiceAccount", "Deployment", "Service"} {
		if kinds[k] == nil {
			t.Fatalf("config/console has no %s", k)
		}
	}
	if mount, _, _ := unstructured.NestedBool(kinds["ServiceAccount"].Object, "automountServiceAccountToken"); mount {
		t.Errorf("the console's ServiceAccount token is mounted")
	}
	d := kinds["Deployment"]
	if mount, found, _ := unstructured.NestedBool(d.Object, "spec", "template", "spec", "automountServiceAccountToken"); !found || mount {
		t.Errorf("the console's pod mounts a ServiceAccount token")
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	if len(args) == 0 || args[0] != "console" {
		t.Errorf("the console's container runs %v, want the console mode", args)
	}
	if image, err := containerImage(d, consoleContainer); err != nil || image != "ghcr.io/ferrymtc/ferry:latest" {
		t.Errorf("the console's image %q (%v), want the operator's", image, err)
	}

	objs, err = Build("config/console-route")
	if err != nil {
		t.Fatal(err)
	}
	route := false
	for _, o := range objs {
		if o.GetKind() == "Route" {
			termination, _, _ := unstructured.NestedString(o.Object, "spec", "tls", "termination")
			route = termination == "passthrough"
		}
	}
	if !route {
		t.Errorf("config/console-route has no passthrough Route")
	}
}
