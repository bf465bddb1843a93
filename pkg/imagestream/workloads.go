package imagestream

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Workload is a kind whose objects run images: where its pod spec is.
type Workload struct {
	GVK schema.GroupVersionKind
	// PodSpec is the path of the pod spec in the object; nil for kinds without one
	// (BuildConfigs name their images in object references).
	PodSpec []string
}

// DeploymentConfigGVK is OpenShift's DeploymentConfig, served only where the API exists.
var DeploymentConfigGVK = schema.GroupVersionKind{Group: "apps.openshift.io", Version: "v1", Kind: "DeploymentConfig"}

// BuildConfigGVK is OpenShift's BuildConfig, served only where the API exists.
var BuildConfigGVK = schema.GroupVersionKind{Group: "build.openshift.io", Version: "v1", Kind: "BuildConfig"}

// Workloads are the kinds whose image references a migration moves to the destination's
// registry (MTC's Velero plugin covered the same kinds).
var Workloads = []Workload{
	{GVK: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, PodSpec: []string{"spec", "template", "spec"}},
	{GVK: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, PodSpec: []string{"spec", "template", "spec"}},
	{GVK: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}, PodSpec: []string{"spec", "template", "spec"}},
	{GVK: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}, PodSpec: []string{"spec", "template", "spec"}},
	{GVK: schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, PodSpec: []string{"spec", "template", "spec"}},
	{GVK: schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}, PodSpec: []string{"spec", "jobTemplate", "spec", "template", "spec"}},
	{GVK: schema.GroupVersionKind{Version: "v1", Kind: "ReplicationController"}, PodSpec: []string{"spec", "template", "spec"}},
	{GVK: schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, PodSpec: []string{"spec"}},
	{GVK: DeploymentConfigGVK, PodSpec: []string{"spec", "template", "spec"}},
	{GVK: BuildConfigGVK},
}

// RewriteWorkload moves the image references of obj's containers and init containers to the
// destination registry, and the namespaces of a DeploymentConfig's image change triggers with
// the namespace mapping. It reports whether obj changed.
func RewriteWorkload(obj *unstructured.Unstructured, w Workload, rw Rewriter) bool {
	if w.GVK == BuildConfigGVK {
		return rewriteBuildConfig(obj, rw)
	}
	changed := false
	for _, field := range []string{"containers", "initContainers"} {
		path := append(append([]string{}, w.PodSpec...), field)
		containers, found, err := unstructured.NestedSlice(obj.Object, path...)
		if err != nil || !found {
			continue
		}
		touched := false
		for _, c := range containers {
			container, ok := c.(map[string]any)
			if !ok {
				continue
			}
			image, _ := container["image"].(string)
			if to, ok := rw.Rewrite(image); ok {
				container["image"] = to
				touched = true
			}
		}
		if touched {
			_ = unstructured.SetNestedSlice(obj.Object, containers, path...)
			changed = true
		}
	}
	if w.GVK == DeploymentConfigGVK && remapTriggers(obj, rw) {
		changed = true
	}
	return changed
}

// remapTriggers points a DeploymentConfig's ImageChange triggers that follow a stream of a
// migrated namespace at the stream's destination namespace.
func remapTriggers(obj *unstructured.Unstructured, rw Rewriter) bool {
	triggers, found, err := unstructured.NestedSlice(obj.Object, "spec", "triggers")
	if err != nil || !found {
		return false
	}
	changed := false
	for _, t := range triggers {
		trigger, _ := t.(map[string]any)
		params, _ := trigger["imageChangeParams"].(map[string]any)
		from, _ := params["from"].(map[string]any)
		if from != nil && rewriteReference(from, rw) {
			changed = true
		}
	}
	if changed {
		_ = unstructured.SetNestedSlice(obj.Object, triggers, "spec", "triggers")
	}
	return changed
}
