// Package kustomize renders a kustomization as `kustomize build` does, into unstructured
// objects. The OLM bundle generator (hack/gen-bundle) and the test installer (test/install)
// both read config/default through it, so the bundle and the e2e install the same objects.
// It uses kustomize's own library (krusty), not the kustomize binary, so nothing needs
// installing.
package kustomize

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Build returns the objects of the kustomization in dir, in the order `kustomize build`
// prints them (kustomize's own ordering, which is deterministic).
func Build(dir string) ([]*unstructured.Unstructured, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out := make([]*unstructured.Unstructured, 0, len(resources.Resources()))
	for _, r := range resources.Resources() {
		// Through JSON: kustomize's maps hold Go ints, which unstructured objects do not.
		raw, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		out = append(out, u)
	}
	return out, nil
}
