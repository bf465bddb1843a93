package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/operator-framework/api/pkg/manifests"
	"github.com/operator-framework/api/pkg/validation"
	verrors "github.com/operator-framework/api/pkg/validation/errors"
)

// repoRoot is the repository root seen from this package's directory, where go test runs.
const repoRoot = "../.."

// TestBundleIsFresh regenerates the bundle and the catalog and fails when the committed ones
// differ: the bundle must describe the operator config/ installs.
func TestBundleIsFresh(t *testing.T) {
	tmp := t.TempDir()
	if err := generate(repoRoot, filepath.Join(tmp, "bundle"), filepath.Join(tmp, "catalog")); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"bundle", filepath.Join("catalog", packageName)} {
		want := readTree(t, filepath.Join(tmp, dir))
		got := readTree(t, filepath.Join(repoRoot, dir))
		if len(want) == 0 {
			t.Fatalf("the generator wrote nothing into %s", dir)
		}
		for _, p := range keys(want, got) {
			switch w, g := want[p], got[p]; {
			case g == nil:
				t.Errorf("%s/%s is missing", dir, p)
			case w == nil:
				t.Errorf("%s/%s is not generated any more", dir, p)
			case !bytes.Equal(w, g):
				t.Errorf("%s/%s is stale: %s", dir, p, firstDifference(w, g))
			}
		}
	}
	if t.Failed() {
		t.Log("run `make bundle` and commit bundle/ and catalog/")
	}
}

// TestBundleValidates loads the committed bundle with operator-framework/api's loader and
// runs its validators: the ones `operator-sdk bundle validate` runs by default (CSV, CRD,
// bundle, objects) and the optional suites that apply offline (OperatorHub v2 with its
// capability and category checks, good practices, deprecated APIs). Left out: the
// multiple-architectures suite inspects the published images in their registries, and the
// deprecated OperatorHub (v1) and community suites are replaced by the ones run here.
// Errors fail the test; warnings are logged. Two kinds of warning are expected and cannot be
// satisfied:
//   - "provided API should have an example" for DirectVolumeMigration(Progress),
//     DirectImage(Stream)Migration and MigAnalytic: config/samples has none, as a MigMigration
//     creates them (and no controller acts on a MigAnalytic);
//   - "APIs which were deprecated and removed in v1.25" for cronjobs and events: the check
//     matches RBAC rules by resource name, and RBAC rules carry no API version, so the rules
//     for batch/v1 CronJobs and events.k8s.io/v1 Events look like the removed v1beta1 APIs.
func TestBundleValidates(t *testing.T) {
	bundle, err := manifests.GetBundleFromDir(filepath.Join(repoRoot, "bundle"))
	if err != nil {
		t.Fatal(err)
	}
	errs, warns := validate(bundle)
	for _, w := range warns {
		t.Logf("warning: %s", w)
	}
	for _, e := range errs {
		t.Errorf("error: %s", e)
	}
}

// TestValidationCatchesErrors makes sure the validators see the bundle's objects: a bundle
// broken on purpose must fail, or TestBundleValidates would pass on anything.
func TestValidationCatchesErrors(t *testing.T) {
	bundle, err := manifests.GetBundleFromDir(filepath.Join(repoRoot, "bundle"))
	if err != nil {
		t.Fatal(err)
	}
	bundle.CSV.Spec.InstallModes = nil  // CSV validator: "install modes not found"
	bundle.V1CRDs = bundle.V1CRDs[1:]   // bundle validator: an owned CRD is missing
	bundle.CSV.Spec.Provider.Name = " " // OperatorHub validator: no provider
	errs, _ := validate(bundle)
	for _, want := range []string{"install modes not found", "not found in bundle", "Provider.Name not specified"} {
		if !slices.ContainsFunc(errs, func(e verrors.Error) bool { return strings.Contains(e.Error(), want) }) {
			t.Errorf("no error %q from the broken bundle; got %v", want, errs)
		}
	}
}

// validators are the suites TestBundleValidates runs (see there).
var validators = validation.DefaultBundleValidators.WithValidators(
	validation.ObjectValidator,
	validation.OperatorHubV2Validator,
	validation.StandardCapabilitiesValidator,
	validation.StandardCategoriesValidator,
	validation.GoodPracticesValidator,
	validation.AlphaDeprecatedAPIsValidator,
)

// clusterVersion is the Kubernetes version the deprecated-API checks assume: the local
// clusters' (the newest Ferry is tested on).
const clusterVersion = "1.37.0"

func validate(bundle *manifests.Bundle) (errs, warns []verrors.Error) {
	objs := append(bundle.ObjectsToValidate(), map[string]string{"k8s-version": clusterVersion})
	for _, r := range validators.Validate(objs...) {
		errs = append(errs, r.Errors...)
		warns = append(warns, r.Warnings...)
	}
	return errs, warns
}

// readTree returns the files below dir by slash-separated relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = raw
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// keys returns the sorted union of the keys of trees.
func keys(trees ...map[string][]byte) []string {
	var out []string
	for _, m := range trees {
		for k := range m {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// firstDifference describes the first line where want and got differ.
func firstDifference(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d: generated %q, committed %q", i+1, wl, gl)
		}
	}
	return "differs"
}
