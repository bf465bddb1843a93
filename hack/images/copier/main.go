// Command copier is the entrypoint of the Velero plugin image (hack/images), installed there
// as /bin/cp: `cp SOURCE... DIRECTORY` copies each regular file into the directory with its
// mode, as the busybox cp of upstream's velero-plugin-for-aws image does for Velero's
// plugin init container (`cp /plugins/velero-plugin-for-aws /target/.`, /target being an
// emptyDir the velero container mounts at /plugins). It does nothing else: a static Go
// program of a few lines, built from this tree like every other binary of the images,
// instead of a busybox with its hundreds of applets from another source.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: cp SOURCE... DIRECTORY")
		os.Exit(2)
	}
	dest := filepath.Clean(os.Args[len(os.Args)-1])
	for _, src := range os.Args[1 : len(os.Args)-1] {
		if err := copyInto(src, dest); err != nil {
			fmt.Fprintf(os.Stderr, "cp: %v\n", err)
			os.Exit(1)
		}
	}
}

// copyInto copies the regular file src into the directory dest under its own name, through
// a temporary file renamed into place, so that a reader never sees half a plugin.
func copyInto(src, dest string) error {
	in, err := os.Open(src) //nolint:gosec // copying what it is told to is its job.
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	out, err := os.CreateTemp(dest, "."+filepath.Base(src)+".")
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Chmod(info.Mode().Perm())
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(out.Name(), filepath.Join(dest, filepath.Base(src)))
	}
	if err != nil {
		_ = os.Remove(out.Name())
		return fmt.Errorf("copy %s into %s: %w", src, dest, err)
	}
	return nil
}
