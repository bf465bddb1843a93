package images

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferrymtc/ferry/hack/repo"
)

// TestDockerfiles checks that the Dockerfiles, which build the images with a container
// engine, agree with the builder on what a runtime reads: the last stage's ENTRYPOINT
// (exec form) and USER.
func TestDockerfiles(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path       string
		entrypoint []string
	}{
		{"Dockerfile", []string{"/manager"}},
		{"hack/images/transfer/Dockerfile", nil},
	} {
		entrypoint, user := lastStage(t, filepath.Join(root, c.path))
		if !slices.Equal(entrypoint, c.entrypoint) {
			t.Errorf("%s: ENTRYPOINT %q, the builder's is %q", c.path, entrypoint, c.entrypoint)
		}
		if user != NonrootUser {
			t.Errorf("%s: USER %q, the builder's is %q", c.path, user, NonrootUser)
		}
	}
}

// lastStage reads the ENTRYPOINT and USER of a Dockerfile's last stage.
func lastStage(t *testing.T, path string) ([]string, string) {
	t.Helper()
	f, err := os.Open(path) //nolint:gosec // the tree's Dockerfiles.
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var entrypoint []string
	user := ""
	s := bufio.NewScanner(f)
	for s.Scan() {
		instruction, rest, _ := strings.Cut(strings.TrimSpace(s.Text()), " ")
		switch strings.ToUpper(instruction) {
		case "FROM":
			entrypoint, user = nil, ""
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &entrypoint); err != nil {
				t.Fatalf("%s: ENTRYPOINT %s: only the exec form is understood: %v", path, rest, err)
			}
		case "USER":
			user = strings.TrimSpace(rest)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return entrypoint, user
}
