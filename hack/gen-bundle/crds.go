package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// crdsDir holds controller-gen's CRDs (make manifests).
const crdsDir = "config/crd/bases"

// crdFile is one CRD of config/crd/bases: its bytes, copied into the bundle unchanged, and
// its parsed form, which the CSV's owned list and descriptors are built from.
type crdFile struct {
	name string
	raw  []byte
	crd  apiextensionsv1.CustomResourceDefinition
}

// loadCRDs reads every CRD of root/config/crd/bases, in file name order.
func loadCRDs(root string) ([]crdFile, error) {
	paths, err := filepath.Glob(filepath.Join(root, crdsDir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no CRDs in %s", crdsDir)
	}
	out := make([]crdFile, 0, len(paths))
	for _, p := range paths { // Glob sorts.
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f := crdFile{name: filepath.Base(p), raw: raw}
		// controller-gen starts each file with "---"; one document per file is expected.
		if strings.Count(string(raw), "\n---") > 0 {
			return nil, fmt.Errorf("%s: more than one document", p)
		}
		if err := yaml.UnmarshalStrict(raw, &f.crd); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(f.crd.Spec.Versions) != 1 {
			// The CSV's owned entries name one version; a second version needs a choice of
			// which one the descriptors describe (the storage version) and a conversion story.
			return nil, fmt.Errorf("%s: %d versions, the generator handles one", p, len(f.crd.Spec.Versions))
		}
		out = append(out, f)
	}
	return out, nil
}

// schemaAt returns the schema of the field at the dot-separated path below root (for
// example "spec" and "backupStorageConfig.awsBucketName"), or false when there is none.
// "[0]" after a segment steps into an array's items, as descriptor paths write it.
func schemaAt(root *apiextensionsv1.JSONSchemaProps, path string) (*apiextensionsv1.JSONSchemaProps, bool) {
	cur := root
	for _, seg := range strings.Split(path, ".") {
		name, isItem := strings.CutSuffix(seg, "[0]")
		next, ok := cur.Properties[name]
		if !ok {
			return nil, false
		}
		cur = &next
		if isItem {
			if cur.Items == nil || cur.Items.Schema == nil {
				return nil, false
			}
			cur = cur.Items.Schema
		}
	}
	return cur, true
}
