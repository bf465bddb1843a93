package compat_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// fieldOwner is the field manager of every write the tests make.
const fieldOwner = "compat-test"

// strict makes the API server reject unknown and duplicate fields instead of dropping them.
var strict = client.FieldValidation("Strict")

// document is one YAML document of a manifest file.
type document struct {
	// file is the path of the file, relative to the repository root.
	file string
	// index is the position of the document in the file, from 0.
	index int
	// obj is the decoded document.
	obj *unstructured.Unstructured
}

// String names the document for subtests and messages: "2-MigPlan-migplan".
func (d document) String() string {
	name := d.obj.GetName()
	if name == "" {
		name = d.obj.GetGenerateName() + "*"
	}
	return fmt.Sprintf("%d-%s-%s", d.index, d.obj.GetKind(), name)
}

// readDocuments decodes every non-empty YAML document of a file. Duplicate keys are errors.
func readDocuments(root, rel string) ([]document, error) {
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []document
	for {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("split %s into documents: %w", rel, err)
		}
		js, err := yaml.YAMLToJSONStrict(raw)
		if err != nil {
			return nil, fmt.Errorf("convert document %d of %s to JSON: %w", len(docs), rel, err)
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
			continue // Only comments.
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("decode document %d of %s: %w", len(docs), rel, err)
		}
		docs = append(docs, document{file: rel, index: len(docs), obj: obj})
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s holds no document", rel)
	}
	return docs, nil
}

// yamlFiles lists the .yaml files of a directory, relative to root, sorted by name.
func yamlFiles(root, dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(root, dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("list manifests in %s: %w", dir, err)
	}
	files := make([]string, 0, len(matches))
	for _, m := range matches {
		rel, err := filepath.Rel(root, m)
		if err != nil {
			return nil, fmt.Errorf("relative path of %s: %w", m, err)
		}
		files = append(files, rel)
	}
	slices.Sort(files)
	return files, nil
}

// apply writes a document as a user would: server-side apply with strict field validation,
// or a strict create when it has generateName and no name. A status, if the document has
// one, is then applied through the status subresource. It returns the stored object's key.
func apply(ctx context.Context, c client.Client, d document) (client.ObjectKey, error) {
	obj := d.obj.DeepCopy()
	status, hasStatus := obj.Object["status"]
	delete(obj.Object, "status")
	if obj.GetName() == "" && obj.GetGenerateName() != "" {
		if err := c.Create(ctx, obj, client.FieldOwner(fieldOwner), strict); err != nil {
			return client.ObjectKey{}, fmt.Errorf("create %s from %s: %w", d, d.file, err)
		}
	} else {
		body, err := json.Marshal(obj.Object)
		if err != nil {
			return client.ObjectKey{}, fmt.Errorf("encode %s from %s: %w", d, d.file, err)
		}
		patch := client.RawPatch(types.ApplyPatchType, body)
		if err := c.Patch(ctx, obj, patch, client.FieldOwner(fieldOwner), client.ForceOwnership, strict); err != nil {
			return client.ObjectKey{}, fmt.Errorf("apply %s from %s: %w", d, d.file, err)
		}
	}
	key := client.ObjectKeyFromObject(obj)
	if !hasStatus {
		return key, nil
	}
	st := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": obj.GetAPIVersion(),
		"kind":       obj.GetKind(),
		"metadata":   map[string]any{"name": key.Name, "namespace": key.Namespace},
		"status":     status,
	}}
	body, err := json.Marshal(st.Object)
	if err != nil {
		return key, fmt.Errorf("encode status of %s from %s: %w", d, d.file, err)
	}
	patch := client.RawPatch(types.ApplyPatchType, body)
	if err := c.Status().Patch(ctx, st, patch, client.FieldOwner(fieldOwner), client.ForceOwnership, strict); err != nil {
		return key, fmt.Errorf("apply status of %s from %s: %w", d, d.file, err)
	}
	return key, nil
}

// expected returns what must be stored unchanged: every top-level field of the manifest but
// apiVersion, kind and metadata, plus metadata labels and annotations.
func expected(obj *unstructured.Unstructured) map[string]any {
	want := map[string]any{}
	for k, v := range obj.Object {
		switch k {
		case "apiVersion", "kind", "metadata":
		default:
			want[k] = v
		}
	}
	md := map[string]any{}
	for _, k := range []string{"labels", "annotations"} {
		if v, ok, _ := unstructured.NestedFieldNoCopy(obj.Object, "metadata", k); ok {
			md[k] = v
		}
	}
	if len(md) > 0 {
		want["metadata"] = md
	}
	return want
}

// subsetDiffs reports every value of want that got lacks or holds differently, each with
// its path (spec.persistentVolumes[0].selection.action). Maps may hold extra keys, such as
// defaults the server added; lists must have the same length and matching items; scalars
// must be equal, numbers compared by value and never equal to strings.
func subsetDiffs(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, stored %s", show(path), describe(got))}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var diffs []string
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			gv, ok := g[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s: missing from the stored object (want %s)", p, describe(w[k])))
				continue
			}
			diffs = append(diffs, subsetDiffs(p, w[k], gv)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want a list, stored %s", show(path), describe(got))}
		}
		if len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %d items, stored %d: %s", show(path), len(w), len(g), describe(got))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, subsetDiffs(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	default:
		if !scalarEqual(want, got) {
			return []string{fmt.Sprintf("%s: want %s, stored %s", show(path), describe(want), describe(got))}
		}
		return nil
	}
}

// scalarEqual compares JSON scalars; numbers of different Go types are equal when their
// values are.
func scalarEqual(a, b any) bool {
	af, aNum := number(a)
	bf, bNum := number(b)
	if aNum || bNum {
		return aNum && bNum && af == bf
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	default:
		return 0, false
	}
}

// describe renders a value with its JSON type, so 1 and "1" read differently.
func describe(v any) string {
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	switch v.(type) {
	case map[string]any, []any:
		return s
	default:
		return fmt.Sprintf("%s (%T)", s, v)
	}
}

func show(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

// formatDiffs joins diffs into one message, one per line.
func formatDiffs(diffs []string) string {
	return "\n\t" + strings.Join(diffs, "\n\t")
}
