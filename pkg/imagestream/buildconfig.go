package imagestream

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// buildReferencePaths are where a BuildConfig names images with an object reference
// ({kind, namespace, name}): its builder image per strategy, where it pushes, and what
// triggers it. Image sources (spec.source.images) are a list and handled apart.
var buildReferencePaths = [][]string{
	{"spec", "strategy", "sourceStrategy", "from"},
	{"spec", "strategy", "dockerStrategy", "from"},
	{"spec", "strategy", "customStrategy", "from"},
	{"spec", "output", "to"},
}

// rewriteBuildConfig moves a BuildConfig's image references to the destination: a DockerImage
// reference into the source's internal registry gets the destination registry (with the
// namespace mapping), and an ImageStreamTag or ImageStreamImage reference to a stream of a
// mapped namespace gets the destination namespace. References without a namespace mean the
// BuildConfig's own and move with it. It reports whether obj changed.
//
// The builder's push and pull secrets (the dockercfg Secrets OpenShift generates per
// namespace) are left as they are: MTC's plugin swapped them for the destination namespace's
// generated ones, which only OpenShift's service account controller creates.
func rewriteBuildConfig(obj *unstructured.Unstructured, rw Rewriter) bool {
	changed := false
	for _, path := range buildReferencePaths {
		ref, found, err := unstructured.NestedMap(obj.Object, path...)
		if err != nil || !found {
			continue
		}
		if rewriteReference(ref, rw) {
			_ = unstructured.SetNestedMap(obj.Object, ref, path...)
			changed = true
		}
	}
	if rewriteListReferences(obj, rw, []string{"spec", "source", "images"}, "from") {
		changed = true
	}
	if rewriteListReferences(obj, rw, []string{"spec", "triggers"}, "imageChange", "from") {
		changed = true
	}
	return changed
}

// rewriteListReferences rewrites the reference at field path ref of each item of the list at
// listPath (an image source's from, a trigger's imageChange.from), reporting whether any changed.
func rewriteListReferences(obj *unstructured.Unstructured, rw Rewriter, listPath []string, ref ...string) bool {
	items, found, err := unstructured.NestedSlice(obj.Object, listPath...)
	if err != nil || !found {
		return false
	}
	touched := false
	for _, item := range items {
		m, _ := item.(map[string]any)
		if m == nil {
			continue
		}
		from, found, err := unstructured.NestedMap(m, ref...)
		if err != nil || !found || !rewriteReference(from, rw) {
			continue
		}
		_ = unstructured.SetNestedMap(m, from, ref...)
		touched = true
	}
	if touched {
		_ = unstructured.SetNestedSlice(obj.Object, items, listPath...)
	}
	return touched
}

// rewriteReference rewrites one OpenShift object reference to an image in place.
func rewriteReference(ref map[string]any, rw Rewriter) bool {
	kind, _ := ref["kind"].(string)
	switch kind {
	case "DockerImage":
		name, _ := ref["name"].(string)
		if to, ok := rw.Rewrite(name); ok {
			ref["name"] = to
			return true
		}
	case "ImageStreamTag", "ImageStreamImage":
		ns, _ := ref["namespace"].(string)
		if to, ok := rw.Namespaces[ns]; ok && to != "" && to != ns {
			ref["namespace"] = to
			return true
		}
	}
	return false
}
