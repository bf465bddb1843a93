package repo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootFromASubdirectory(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, marker := range []string{"PROJECT", "go.mod", "Makefile"} {
		if _, err := os.Stat(filepath.Join(root, marker)); err != nil {
			t.Errorf("root %s: %v", root, err)
		}
	}
	if wd, _ := os.Getwd(); wd != filepath.Join(root, "hack", "repo") {
		t.Errorf("the test runs in %s, want hack/repo under %s", wd, root)
	}
}

func TestRootOutsideTheRepository(t *testing.T) {
	t.Chdir(t.TempDir())
	if root, err := Root(); err == nil {
		t.Errorf("Root() = %s outside the repository, want an error", root)
	}
}
