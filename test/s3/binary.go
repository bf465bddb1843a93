package s3

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ferrymtc/ferry/hack/repo"
)

// BinDirEnv overrides the directory where the versitygw binary is looked up.
const BinDirEnv = "FERRY_S3_BIN"

// binaryName is the S3 server program.
const binaryName = "versitygw"

// Binary returns the path of the versitygw binary: in FERRY_S3_BIN if set, else in bin/s3 of
// the Ferry repository that contains the working directory.
func Binary() (string, error) {
	dir := os.Getenv(BinDirEnv)
	if dir == "" {
		root, err := repo.Root()
		if err != nil {
			return "", fmt.Errorf("find the S3 server binary: %w", err)
		}
		dir = filepath.Join(root, "bin", "s3")
	}
	path := filepath.Join(dir, binaryName)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("S3 server binary %s not found in %s (run `make s3server` to build it): %w", binaryName, dir, err)
	}
	return path, nil
}
