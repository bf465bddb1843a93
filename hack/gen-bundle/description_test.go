package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadmeIntro(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	readme := "# Title\n\nFirst line\nsecond line.\n\nNot this.\n## Heading\n"
	if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readmeIntro(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "First line second line."; got != want {
		t.Errorf("intro %q, want %q", got, want)
	}
	if err := os.WriteFile(path, []byte("# Title\n\n## Heading\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readmeIntro(path); err == nil {
		t.Errorf("a README without an introduction gave %q", got)
	}
}
