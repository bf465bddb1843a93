package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ferrymtc/ferry/pkg/kustomize"
)

// kustomizeBuild returns the objects of the kustomization in root/dir, as `kustomize build`
// prints them.
func kustomizeBuild(root, dir string) ([]*unstructured.Unstructured, error) {
	return kustomize.Build(filepath.Join(root, dir))
}

// ofKind returns the objects of objs with the given kind.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, u := range objs {
		if u.GetKind() == kind {
			out = append(out, u)
		}
	}
	return out
}

// into converts an unstructured object into the typed object out points to. Unknown fields
// are an error: a field the typed object drops would silently vanish from the bundle.
func into(u *unstructured.Unstructured, out any) error {
	raw, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}
