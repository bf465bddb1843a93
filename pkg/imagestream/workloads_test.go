package imagestream

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestRewriteWorkload(t *testing.T) {
	rw := Rewriter{Source: internal, Destination: "dest-registry:5000", Namespaces: map[string]string{"shop": "store"}}
	deployment := Workloads[0]
	cronJob := Workloads[5]
	dc, bc := workloadOf(t, DeploymentConfigGVK), workloadOf(t, BuildConfigGVK)
	podSpec := func(images ...string) map[string]any {
		var containers []any
		for _, img := range images {
			containers = append(containers, map[string]any{"name": "c", "image": img})
		}
		return map[string]any{"containers": containers, "initContainers": []any{map[string]any{"name": "init", "image": internal + "/shop/tools:1"}}}
	}
	cases := []struct {
		name    string
		w       Workload
		obj     map[string]any
		changed bool
		check   func(t *testing.T, obj *unstructured.Unstructured)
	}{
		{
			name: "deployment containers and init containers", w: deployment, changed: true,
			obj: map[string]any{"spec": map[string]any{"template": map[string]any{"spec": podSpec(internal+"/shop/web@sha256:aaa", "quay.io/org/sidecar:1")}}},
			check: func(t *testing.T, obj *unstructured.Unstructured) {
				cs, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
				if got := cs[0].(map[string]any)["image"]; got != "dest-registry:5000/store/web@sha256:aaa" {
					t.Errorf("container image = %v", got)
				}
				if got := cs[1].(map[string]any)["image"]; got != "quay.io/org/sidecar:1" {
					t.Errorf("external image changed: %v", got)
				}
				ics, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "initContainers")
				if got := ics[0].(map[string]any)["image"]; got != "dest-registry:5000/store/tools:1" {
					t.Errorf("init container image = %v", got)
				}
			},
		},
		{
			name: "cron job's nested pod spec", w: cronJob, changed: true,
			obj: map[string]any{"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": podSpec(internal + "/shop/batch:2")}}}}},
		},
		{
			name: "nothing internal", w: deployment, changed: false,
			obj: map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "nginx:1"}}}}}},
		},
		{
			name: "deployment config trigger namespaces", w: dc, changed: true,
			obj: map[string]any{"spec": map[string]any{
				"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "quay.io/x:1"}}}},
				"triggers": []any{map[string]any{"type": "ImageChange", "imageChangeParams": map[string]any{"from": map[string]any{"kind": "ImageStreamTag", "namespace": "shop", "name": "web:latest"}}}},
			}},
			check: func(t *testing.T, obj *unstructured.Unstructured) {
				ts, _, _ := unstructured.NestedSlice(obj.Object, "spec", "triggers")
				from := ts[0].(map[string]any)["imageChangeParams"].(map[string]any)["from"].(map[string]any)
				if from["namespace"] != "store" {
					t.Errorf("trigger namespace = %v", from["namespace"])
				}
			},
		},
		{
			name: "build config builder image, image sources, output and triggers", w: bc, changed: true,
			obj: map[string]any{"spec": map[string]any{
				"strategy": map[string]any{"type": "Source", "sourceStrategy": map[string]any{
					"from": map[string]any{"kind": "DockerImage", "name": internal + "/shop/builder:1"}}},
				"source": map[string]any{"images": []any{
					map[string]any{"from": map[string]any{"kind": "ImageStreamTag", "namespace": "shop", "name": "assets:v2"}},
					map[string]any{"from": map[string]any{"kind": "DockerImage", "name": "quay.io/org/assets:1"}},
				}},
				"output":   map[string]any{"to": map[string]any{"kind": "DockerImage", "name": internal + "/shop/web:latest"}},
				"triggers": []any{map[string]any{"type": "ImageChange", "imageChange": map[string]any{"from": map[string]any{"kind": "ImageStreamTag", "namespace": "shop", "name": "builder:1"}}}},
			}},
			check: func(t *testing.T, obj *unstructured.Unstructured) {
				if got, _, _ := unstructured.NestedString(obj.Object, "spec", "strategy", "sourceStrategy", "from", "name"); got != "dest-registry:5000/store/builder:1" {
					t.Errorf("builder image = %v", got)
				}
				if got, _, _ := unstructured.NestedString(obj.Object, "spec", "output", "to", "name"); got != "dest-registry:5000/store/web:latest" {
					t.Errorf("output = %v", got)
				}
				images, _, _ := unstructured.NestedSlice(obj.Object, "spec", "source", "images")
				if ns := images[0].(map[string]any)["from"].(map[string]any)["namespace"]; ns != "store" {
					t.Errorf("image source namespace = %v", ns)
				}
				if name := images[1].(map[string]any)["from"].(map[string]any)["name"]; name != "quay.io/org/assets:1" {
					t.Errorf("external image source changed: %v", name)
				}
				ts, _, _ := unstructured.NestedSlice(obj.Object, "spec", "triggers")
				if ns := ts[0].(map[string]any)["imageChange"].(map[string]any)["from"].(map[string]any)["namespace"]; ns != "store" {
					t.Errorf("trigger namespace = %v", ns)
				}
			},
		},
		{
			name: "build config of its own namespace's streams and an external builder", w: bc, changed: false,
			obj: map[string]any{"spec": map[string]any{
				"strategy": map[string]any{"type": "Docker", "dockerStrategy": map[string]any{
					"from": map[string]any{"kind": "DockerImage", "name": "registry.access.redhat.com/ubi9/ubi:latest"}}},
				"output": map[string]any{"to": map[string]any{"kind": "ImageStreamTag", "name": "web:latest"}},
			}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &unstructured.Unstructured{Object: tc.obj}
			if got := RewriteWorkload(obj, tc.w, rw); got != tc.changed {
				t.Fatalf("changed = %v, want %v", got, tc.changed)
			}
			if tc.check != nil {
				tc.check(t, obj)
			}
		})
	}
}

// workloadOf is the entry of Workloads for gvk.
func workloadOf(t *testing.T, gvk schema.GroupVersionKind) Workload {
	t.Helper()
	for _, w := range Workloads {
		if w.GVK == gvk {
			return w
		}
	}
	t.Fatalf("%v is not in Workloads", gvk)
	return Workload{}
}
