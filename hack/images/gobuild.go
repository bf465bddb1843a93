package images

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// goBinary builds the main package pkg (an import path of this module, such as
// ./cmd/manager) into the cache as a static binary named name, once per Builder, and
// returns its path. CGO_ENABLED=0 makes it static (no libc in the images), -trimpath keeps
// the build directory out of it, -s -w leave out the symbol table and DWARF (stack traces
// keep function names and lines from pclntab): with the same toolchain and module
// versions the binary is the same byte for byte wherever the tree is checked out.
func (b *Builder) goBinary(ctx context.Context, name, pkg string) (string, error) {
	return b.memo("go:"+pkg, func() (string, error) {
		out := filepath.Join(b.cacheDir, "bin", name)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return "", err
		}
		b.logf("building %s (static)", pkg)
		// Written beside and renamed, so that a reader (a running test's image) never sees
		// half a binary.
		tmp := out + ".tmp"
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, pkg)
		cmd.Dir = b.root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
		}
		if err := os.Rename(tmp, out); err != nil {
			return "", err
		}
		return out, nil
	})
}

// checkStatic fails unless the ELF binary at path needs no dynamic loader: the images have
// no C library, so a dynamically linked binary would not start in them.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; the images need static binaries (CGO_ENABLED=0)", path)
		}
	}
	return nil
}

// readBinary reads an executable for an image, checking that it is static.
func readBinary(path string) ([]byte, error) {
	if err := checkStatic(path); err != nil {
		return nil, err
	}
	return os.ReadFile(path) //nolint:gosec // the build's own binaries.
}
