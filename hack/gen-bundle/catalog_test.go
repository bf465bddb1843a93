package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/operator-framework/api/pkg/manifests"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// TestCatalogMatchesBundle reads the committed file-based catalog back as OLM would (every
// document by its schema) and checks it against the committed bundle: the package's default
// channel exists, every channel entry is a bundle of the catalog and every bundle is in a
// channel, and the bundle's properties state the CSV's name, version and owned APIs.
func TestCatalogMatchesBundle(t *testing.T) {
	bundle, err := manifests.GetBundleFromDir(filepath.Join(repoRoot, "bundle"))
	if err != nil {
		t.Fatal(err)
	}
	// The loader reads channels from the annotations but not the package name.
	var ann manifests.AnnotationsFile
	readYAML(t, "bundle/metadata/annotations.yaml", &ann)
	pkgs, channels, bundles := readCatalog(t, filepath.Join(repoRoot, "catalog", packageName, "catalog.yaml"))
	if len(pkgs) != 1 || pkgs[0].Name != ann.Annotations.PackageName {
		t.Fatalf("catalog packages %v, want one named %q as the bundle's annotations say", pkgs, ann.Annotations.PackageName)
	}
	if pkgs[0].DefaultChannel != bundle.DefaultChannel {
		t.Errorf("default channel %q, bundle annotations say %q", pkgs[0].DefaultChannel, bundle.DefaultChannel)
	}
	bundleNames := map[string]bool{}
	for _, b := range bundles {
		bundleNames[b.Name] = false
	}
	for _, c := range channels {
		if c.Package != pkgs[0].Name {
			t.Errorf("channel %s belongs to package %q", c.Name, c.Package)
		}
		if !slices.Contains(bundle.Channels, c.Name) {
			t.Errorf("channel %s is not among the bundle's channels %v", c.Name, bundle.Channels)
		}
		for _, e := range c.Entries {
			if _, ok := bundleNames[e.Name]; !ok {
				t.Errorf("channel %s names bundle %s, which the catalog lacks", c.Name, e.Name)
			}
			bundleNames[e.Name] = true
		}
	}
	if !slices.ContainsFunc(channels, func(c fbcChannel) bool { return c.Name == pkgs[0].DefaultChannel }) {
		t.Errorf("default channel %q is not in the catalog", pkgs[0].DefaultChannel)
	}
	for name, inChannel := range bundleNames {
		if !inChannel {
			t.Errorf("bundle %s is in no channel", name)
		}
	}

	i := slices.IndexFunc(bundles, func(b fbcBundle) bool { return b.Name == bundle.CSV.Name })
	if i < 0 {
		t.Fatalf("the catalog has no bundle %s", bundle.CSV.Name)
	}
	b := bundles[i]
	if b.Image == "" || b.Package != pkgs[0].Name {
		t.Errorf("bundle %s: image %q, package %q", b.Name, b.Image, b.Package)
	}
	var pkgProps []fbcPackageProp
	var gvks []string
	for _, p := range b.Properties {
		switch p.Type {
		case "olm.package":
			var v fbcPackageProp
			decodeStrict(t, p.Value, &v)
			pkgProps = append(pkgProps, v)
		case "olm.gvk":
			var v fbcGVKProp
			decodeStrict(t, p.Value, &v)
			gvks = append(gvks, v.Group+"/"+v.Version+"/"+v.Kind)
		}
	}
	if want := (fbcPackageProp{PackageName: pkgs[0].Name, Version: bundle.CSV.Spec.Version.String()}); len(pkgProps) != 1 || pkgProps[0] != want {
		t.Errorf("olm.package properties %v, want [%v]", pkgProps, want)
	}
	var owned []string
	for _, crd := range bundle.V1CRDs {
		owned = append(owned, crd.Spec.Group+"/"+crd.Spec.Versions[0].Name+"/"+crd.Spec.Names.Kind)
	}
	slices.Sort(gvks)
	slices.Sort(owned)
	if !slices.Equal(gvks, owned) {
		t.Errorf("olm.gvk properties %v, the bundle's CRDs %v", gvks, owned)
	}
}

// readCatalog decodes a catalog file's documents by their schema, strictly: a field the
// schemas do not have is an error.
func readCatalog(t *testing.T, path string) (pkgs []fbcPackage, channels []fbcChannel, bundles []fbcBundle) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var doc json.RawMessage
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(doc)) == 0 || string(doc) == "null" {
			continue
		}
		var meta struct {
			Schema string `json:"schema"`
		}
		if err := json.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Schema {
		case "olm.package":
			var p fbcPackage
			decodeStrict(t, doc, &p)
			pkgs = append(pkgs, p)
		case "olm.channel":
			var c fbcChannel
			decodeStrict(t, doc, &c)
			channels = append(channels, c)
		case "olm.bundle":
			var b fbcBundle
			decodeStrict(t, doc, &b)
			bundles = append(bundles, b)
		default:
			t.Errorf("%s: unknown schema %q", path, meta.Schema)
		}
	}
	return pkgs, channels, bundles
}

func decodeStrict(t *testing.T, raw []byte, out any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Errorf("%s: %v", strings.TrimSpace(string(raw[:min(len(raw), 80)])), err)
	}
}
