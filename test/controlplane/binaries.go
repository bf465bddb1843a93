package controlplane

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ferrymtc/ferry/hack/repo"
)

// BinDirEnv overrides where the control-plane binaries are looked up.
const BinDirEnv = "FERRY_CONTROLPLANE_BIN"

// requiredBinaries are the programs a control plane needs.
var requiredBinaries = []string{"etcd", "kube-apiserver"}

// BinDir returns the directory that holds etcd, kube-apiserver and, when built,
// kube-controller-manager and kube-scheduler.
func BinDir() (string, error) {
	dir := os.Getenv(BinDirEnv)
	if dir == "" {
		root, err := repo.Root()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin", "k8s")
	}
	for _, name := range requiredBinaries {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("control-plane binary %s not found in %s (run `make envtest` to build them): %w", name, dir, err)
		}
	}
	return dir, nil
}
