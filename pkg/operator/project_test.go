package operator

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestProjectFileMatchesTheControllers: kubebuilder's PROJECT file claims a controller exactly
// for the kinds that have a package under controllers/ (named after the kind, lower case).
func TestProjectFileMatchesTheControllers(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "PROJECT"))
	if err != nil {
		t.Fatal(err)
	}
	var project struct {
		Resources []struct {
			Kind       string `json:"kind"`
			Controller bool   `json:"controller"`
		} `json:"resources"`
	}
	if err := yaml.Unmarshal(raw, &project); err != nil {
		t.Fatal(err)
	}
	var claimed []string
	for _, r := range project.Resources {
		if r.Controller {
			claimed = append(claimed, strings.ToLower(r.Kind))
		}
	}
	entries, err := os.ReadDir(filepath.Join("..", "..", "controllers"))
	if err != nil {
		t.Fatal(err)
	}
	var packages []string
	for _, e := range entries {
		if e.IsDir() {
			packages = append(packages, e.Name())
		}
	}
	slices.Sort(claimed)
	slices.Sort(packages)
	if !slices.Equal(claimed, packages) {
		t.Errorf("PROJECT claims controllers for %v; controllers/ has %v", claimed, packages)
	}
}
