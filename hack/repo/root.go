package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Root returns the directory of the Ferry checkout that holds the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("get working directory: %w", err)
	}
	for {
		if isRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the working directory is not inside the Ferry repository")
		}
		dir = parent
	}
}

func isRoot(dir string) bool {
	for _, marker := range []string{"PROJECT", "go.mod"} {
		if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
			return false
		}
	}
	return true
}
