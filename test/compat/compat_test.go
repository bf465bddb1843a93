package compat_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ferrymtc/ferry/hack/repo"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// apiTimeout bounds every API call of the tests.
const apiTimeout = 30 * time.Second

const (
	seedDir = "test/compat/testdata/seed"
	// mtcDir holds manifests of MTC's kinds that its controllers create (DirectImageMigration,
	// DirectImageStreamMigration) in the shape MTC writes them: tooling and users apply such
	// manifests too.
	mtcDir     = "test/compat/testdata/mtc"
	samplesDir = "config/samples"
)

// baseNamespaces are created before anything is applied, whether or not a manifest lives
// there: MTC's own namespace and the one its Secrets go to.
var baseNamespaces = []string{"openshift-migration", "openshift-config"}

// unservedGroups are API groups that seed manifests use but a plain kube-apiserver does not
// serve. Their documents must decode and be refused only because the kind is unknown.
var unservedGroups = map[string]string{
	// EgressNetworkPolicy is OpenShift SDN's egress firewall.
	"network.openshift.io": "OpenShift SDN API",
}

var (
	setupOnce sync.Once
	setupErr  error
	plane     *controlplane.ControlPlane
	repoRoot  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if plane != nil {
		if err := plane.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// controlPlane starts the one control plane of the package on first use and creates the
// namespaces that the manifests live in.
func controlPlane(t *testing.T) client.Client {
	t.Helper()
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return plane.Client
}

func setup() error {
	root, err := repo.Root()
	if err != nil {
		return fmt.Errorf("find repository root: %w", err)
	}
	repoRoot = root
	namespaces := slices.Clone(baseNamespaces)
	for _, dir := range []string{seedDir, mtcDir, samplesDir} {
		docs, err := dirDocuments(dir)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if _, unserved := unservedGroups[d.obj.GroupVersionKind().Group]; unserved {
				continue
			}
			if ns := d.obj.GetNamespace(); ns != "" && !slices.Contains(namespaces, ns) {
				namespaces = append(namespaces, ns)
			}
		}
	}
	if plane, err = controlplane.Start("compat"); err != nil {
		return fmt.Errorf("start control plane: %w", err)
	}
	for _, ns := range namespaces {
		if err := createNamespace(ns); err != nil {
			return err
		}
	}
	return nil
}

func createNamespace(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := plane.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// dirDocuments reads every document of every .yaml file of dir (relative to the root),
// except a kustomization.
func dirDocuments(dir string) ([]document, error) {
	files, err := yamlFiles(repoRoot, dir)
	if err != nil {
		return nil, err
	}
	var docs []document
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		fd, err := readDocuments(repoRoot, f)
		if err != nil {
			return nil, err
		}
		docs = append(docs, fd...)
	}
	return docs, nil
}

// TestSeedManifests applies every MTC manifest of the documentation, and MTC's controller-made
// kinds in MTC's shape, and checks that the API server stores each unchanged.
func TestSeedManifests(t *testing.T) {
	c := controlPlane(t)
	var files []string
	for _, dir := range []string{seedDir, mtcDir} {
		dirFiles, err := yamlFiles(repoRoot, dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(dirFiles) == 0 {
			t.Fatalf("no manifest in %s", dir)
		}
		files = append(files, dirFiles...)
	}
	applied, ran := 0, 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ran++
			docs, err := readDocuments(repoRoot, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range docs {
				t.Run(d.String(), func(t *testing.T) {
					if checkDocument(t, c, d) {
						applied++
					}
				})
			}
		})
	}
	t.Logf("%d documents of %d files applied and verified", applied, ran)
}

// TestSamples applies config/samples the same way and checks that its kustomization lists
// exactly the sample files.
func TestSamples(t *testing.T) {
	c := controlPlane(t)
	files, err := yamlFiles(repoRoot, samplesDir)
	if err != nil {
		t.Fatal(err)
	}
	resources, err := kustomizationResources(filepath.Join(repoRoot, samplesDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" {
			onDisk = append(onDisk, base)
		}
	}
	listed := slices.Sorted(slices.Values(resources))
	if !slices.Equal(listed, onDisk) {
		t.Errorf("%s/kustomization.yaml lists %v, the directory holds %v", samplesDir, listed, onDisk)
	}
	applied := 0
	for _, r := range resources {
		t.Run(r, func(t *testing.T) {
			docs, err := readDocuments(repoRoot, filepath.Join(samplesDir, r))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range docs {
				t.Run(d.String(), func(t *testing.T) {
					if checkDocument(t, c, d) {
						applied++
					}
				})
			}
		})
	}
	t.Logf("%d sample documents applied and verified", applied)
}

// checkDocument applies a document, reads it back and compares. It reports whether the
// document was applied (false for an unserved kind, which must be refused as unknown).
func checkDocument(t *testing.T, c client.Client, d document) bool {
	t.Helper()
	gvk := d.obj.GroupVersionKind()
	ctx, cancel := context.WithTimeout(t.Context(), apiTimeout)
	defer cancel()
	key, err := apply(ctx, c, d)
	if why, unserved := unservedGroups[gvk.Group]; unserved {
		if !meta.IsNoMatchError(err) {
			t.Fatalf("%s (%s) must be refused as an unknown kind, got: %v", gvk, why, err)
		}
		t.Logf("%s is not served (%s): refused as an unknown kind, as expected", gvk.GroupKind(), why)
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	if prefix := d.obj.GetGenerateName(); d.obj.GetName() == "" && !strings.HasPrefix(key.Name, prefix) {
		t.Errorf("created name %q lacks the generateName prefix %q", key.Name, prefix)
	}
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(gvk)
	ctx, cancel = context.WithTimeout(t.Context(), apiTimeout)
	defer cancel()
	if err := c.Get(ctx, key, got); err != nil {
		t.Fatalf("read back %s %s: %v", gvk.Kind, key, err)
	}
	if diffs := subsetDiffs("", expected(d.obj), got.Object); len(diffs) > 0 {
		t.Errorf("%s %s from %s is not stored as written:%s", gvk.Kind, key, d.file, formatDiffs(diffs))
	}
	return true
}

// kustomizationResources returns the resources list of a kustomization file.
func kustomizationResources(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read kustomization: %w", err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return k.Resources, nil
}

// unknownFieldPlan is a MigPlan with a spec field that the CRD does not declare.
const unknownFieldPlan = `apiVersion: migration.openshift.io/v1alpha1
kind: MigPlan
metadata:
  name: compat-unknown-field
  namespace: openshift-migration
spec:
  namespaces:
  - mysql-persistent
  notAMigPlanField: true
`

// TestUnknownFieldIsCaught proves the checks can fail: a MigPlan with a field the CRD does
// not declare is refused by the strict apply and by a strict create, and when a write
// without validation lets the server prune it, the read-back comparison reports it.
func TestUnknownFieldIsCaught(t *testing.T) {
	c := controlPlane(t)
	js, err := yaml.YAMLToJSONStrict([]byte(unknownFieldPlan))
	if err != nil {
		t.Fatal(err)
	}
	plan := &unstructured.Unstructured{}
	if err := plan.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(plan)

	t.Run("strict server-side apply", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), apiTimeout)
		defer cancel()
		_, err := apply(ctx, c, document{file: "(inline)", obj: plan})
		if err == nil {
			t.Fatal("a MigPlan with spec.notAMigPlanField was applied")
		}
		// For a CRD the server refuses it while building the typed patch ("field not
		// declared in schema"), before field validation, with code 500.
		if !strings.Contains(err.Error(), "notAMigPlanField") {
			t.Fatalf("the error does not name spec.notAMigPlanField: %v", err)
		}
		assertAbsent(t, c, plan)
	})

	t.Run("strict create", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), apiTimeout)
		defer cancel()
		err := c.Create(ctx, plan.DeepCopy(), client.FieldOwner(fieldOwner), strict)
		if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "notAMigPlanField") {
			t.Fatalf("want a BadRequest naming spec.notAMigPlanField, got: %v", err)
		}
		assertAbsent(t, c, plan)
	})

	t.Run("read-back check of a pruned field", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), apiTimeout)
		defer cancel()
		if err := c.Create(ctx, plan.DeepCopy(), client.FieldOwner(fieldOwner), client.FieldValidation("Ignore")); err != nil {
			t.Fatalf("create without field validation: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
			defer cancel()
			if err := c.Delete(ctx, plan.DeepCopy()); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("delete MigPlan %s: %v", key, err)
			}
		})
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(plan.GroupVersionKind())
		if err := c.Get(ctx, key, got); err != nil {
			t.Fatalf("read back MigPlan %s: %v", key, err)
		}
		diffs := subsetDiffs("", expected(plan), got.Object)
		if len(diffs) != 1 || !strings.HasPrefix(diffs[0], "spec.notAMigPlanField: missing") {
			t.Fatalf("want exactly the pruned spec.notAMigPlanField reported, got:%s", formatDiffs(diffs))
		}
	})
}

// assertAbsent fails the test if obj exists.
func assertAbsent(t *testing.T, c client.Client, obj *unstructured.Unstructured) {
	t.Helper()
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(obj.GroupVersionKind())
	ctx, cancel := context.WithTimeout(t.Context(), apiTimeout)
	defer cancel()
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), got); !apierrors.IsNotFound(err) {
		t.Fatalf("the refused %s must not exist; Get returned: %v", obj.GetKind(), err)
	}
}

// TestSubsetDiffs checks that the comparison reports changed, missing and retyped values
// with their paths, and accepts extra stored fields.
func TestSubsetDiffs(t *testing.T) {
	want := map[string]any{"spec": map[string]any{
		"persistentVolumes": []any{map[string]any{"selection": map[string]any{"action": "skip"}}},
		"mig_pv_limit":      int64(100),
		"cluster_name":      "host",
		"limit":             "1",
	}}
	got := map[string]any{"spec": map[string]any{
		"persistentVolumes": []any{map[string]any{"selection": map[string]any{"action": "copy"}, "name": "pv"}},
		"mig_pv_limit":      float64(100),
		"limit":             int64(1),
		"extra":             true,
	}}
	diffs := subsetDiffs("", want, got)
	for _, p := range []string{"spec.persistentVolumes[0].selection.action:", "spec.cluster_name:", "spec.limit:"} {
		if !slices.ContainsFunc(diffs, func(d string) bool { return strings.HasPrefix(d, p) }) {
			t.Errorf("no difference reported at %s; got:%s", p, formatDiffs(diffs))
		}
	}
	if len(diffs) != 3 {
		t.Errorf("want 3 differences, got %d:%s", len(diffs), formatDiffs(diffs))
	}
	if d := subsetDiffs("", want, want); len(d) != 0 {
		t.Errorf("a value differs from itself:%s", formatDiffs(d))
	}
}
