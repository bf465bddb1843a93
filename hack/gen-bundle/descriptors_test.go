package main

import (
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// TestDescribe: descriptions come from the schema, a reference's from its parent field, and a
// path the schema lacks (a renamed or removed API field) is an error, not a dead form field.
func TestDescribe(t *testing.T) {
	obj := func(desc string, props map[string]apiextensionsv1.JSONSchemaProps) apiextensionsv1.JSONSchemaProps {
		return apiextensionsv1.JSONSchemaProps{Type: "object", Description: desc, Properties: props}
	}
	str := func(desc string) apiextensionsv1.JSONSchemaProps {
		return apiextensionsv1.JSONSchemaProps{Type: "string", Description: desc}
	}
	schema := obj("Kind.", map[string]apiextensionsv1.JSONSchemaProps{
		"spec": obj("Spec.", map[string]apiextensionsv1.JSONSchemaProps{
			"url":     str("URL of the\n  cluster."),
			"ref":     obj("Ref names the plan.", map[string]apiextensionsv1.JSONSchemaProps{"name": str("Name of the referent.")}),
			"nodesc":  str(""),
			"entries": {Type: "array", Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{"image": str("Image.")}}}},
		}),
	})
	for _, tc := range []struct {
		d       descriptor
		want    string
		wantErr string
	}{
		{d: d("url", "URL"), want: "URL of the cluster."},
		{d: ref("ref", "Plan", "MigPlan"), want: "Ref names the plan."},
		{d: d("entries[0].image", "Image"), want: "Image."},
		{d: d("missing", "Missing"), wantErr: "not in the CRD schema"},
		{d: d("url.deeper", "Deeper"), wantErr: "not in the CRD schema"},
		{d: ref("url", "Not a reference", "MigPlan"), wantErr: "spec.url.name is not in the CRD schema"},
		{d: d("nodesc", "No description"), wantErr: "no description"},
	} {
		got, err := describe(&schema, "Kind", "spec", tc.d)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err %v, want %q", tc.d.path, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.d.path, got, err, tc.want)
		}
	}
}

// TestEveryCRDIsDescribed: descriptors.go and config/crd/bases name the same kinds.
func TestEveryCRDIsDescribed(t *testing.T) {
	crds, err := loadCRDs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ownedDescriptions(crds); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ownedDescriptions(crds[1:]); err == nil || !strings.Contains(err.Error(), "has no CRD") {
		t.Errorf("a described kind without a CRD: err %v", err)
	}
}
