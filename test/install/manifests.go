package install

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/hack/repo"
	"github.com/ferrymtc/ferry/pkg/kustomize"
)

// fieldManager is the field manager `kubectl apply --server-side` uses.
const fieldManager = "kubectl"

// Build returns the objects of the kustomization in dir, a path relative to the repository
// root such as "config/default", as `kustomize build` prints them.
func Build(dir string) ([]*unstructured.Unstructured, error) {
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	return buildDir(filepath.Join(root, dir))
}

// buildDir returns the objects of the kustomization in the absolute directory dir.
func buildDir(dir string) ([]*unstructured.Unstructured, error) { return kustomize.Build(dir) }

// Apply applies objs server-side with kubectl's field manager, taking over fields that
// another manager set (the test control planes install the CRDs themselves). Namespaces
// and CRDs go first, as they would have to on a cluster that has neither.
func Apply(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	first := func(u *unstructured.Unstructured) int {
		switch u.GetKind() {
		case "Namespace":
			return 0
		case "CustomResourceDefinition":
			return 1
		}
		return 2
	}
	ordered := slices.Clone(objs)
	slices.SortStableFunc(ordered, func(a, b *unstructured.Unstructured) int { return first(a) - first(b) })
	for _, u := range ordered {
		err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner(fieldManager), client.ForceOwnership)
		if err != nil {
			return fmt.Errorf("apply %s %s: %w", u.GetKind(), client.ObjectKeyFromObject(u), err)
		}
	}
	return nil
}

// BuildAndApply applies the kustomization in dir (see Build) to the cluster c talks to.
func BuildAndApply(ctx context.Context, c client.Client, dir string) ([]*unstructured.Unstructured, error) {
	objs, err := Build(dir)
	if err != nil {
		return nil, err
	}
	return objs, Apply(ctx, c, objs)
}

// unstructuredString reads a string field of an object.
func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	return unstructured.NestedString(obj, fields...)
}
