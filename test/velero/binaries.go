package velero

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ferrymtc/ferry/hack/repo"
)

// BinDirEnv overrides the directory where the velero binary and its plugins/ directory are
// looked up.
const BinDirEnv = "FERRY_VELERO_BIN"

// pluginName is the only plugin the test servers need: the AWS object store, which speaks S3.
const pluginName = "velero-plugin-for-aws"

// Binaries returns the path of the velero binary and of the plugin directory (which holds the
// AWS plugin only): in FERRY_VELERO_BIN if set, else in bin/velero of the Ferry repository
// that contains the working directory.
func Binaries() (velero, pluginDir string, err error) {
	dir := os.Getenv(BinDirEnv)
	if dir == "" {
		root, err := repo.Root()
		if err != nil {
			return "", "", fmt.Errorf("find the velero binary: %w", err)
		}
		dir = filepath.Join(root, "bin", "velero")
	}
	velero = filepath.Join(dir, "velero")
	pluginDir = filepath.Join(dir, "plugins")
	for _, path := range []string{velero, filepath.Join(pluginDir, pluginName)} {
		if _, err := os.Stat(path); err != nil {
			return "", "", fmt.Errorf("%s not found (run `make velero` to build it): %w", path, err)
		}
	}
	return velero, pluginDir, nil
}
