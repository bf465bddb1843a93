package node

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// HostCommandLabel is an image config label which, set to "true", makes the node run the
// image's entrypoint as a host command, as for an image with no files, even though its
// layers hold some: test images whose layers are data (test/registry's random layers, made to be
// copied between registries) and whose entrypoint names a host command such as sleep.
const HostCommandLabel = "io.ferrymtc.process-node.host-command"

// rootfsCache holds the root filesystems of the images a node unpacked, one per image digest,
// under dir. Containers never write to them: each gets a copy-on-write overlay.
type rootfsCache struct {
	dir string
	mu  sync.Mutex
	// byDigest holds done and in-progress unpacks; a failed one is removed, so that the
	// next pull tries again.
	byDigest map[string]*unpacking
}

type unpacking struct {
	done chan struct{}
	root string // "" when the image has no files
	err  error
}

// rootfs returns the unpacked root filesystem of a pulled image, or "" when its containers
// run host commands (no layers with files, or HostCommandLabel). Layers are fetched and
// unpacked once per digest; concurrent pulls of one image wait for the first.
func (c *rootfsCache) rootfs(img v1.Image) (string, error) {
	if img == nil {
		return "", nil
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("read the image's config: %w", err)
	}
	if cfg.Config.Labels[HostCommandLabel] == "true" {
		return "", nil
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.byDigest == nil {
		c.byDigest = map[string]*unpacking{}
	}
	u, ok := c.byDigest[digest.String()]
	if !ok {
		u = &unpacking{done: make(chan struct{})}
		c.byDigest[digest.String()] = u
	}
	c.mu.Unlock()
	if ok {
		<-u.done
		return u.root, u.err
	}
	u.root, u.err = unpackImage(img, filepath.Join(c.dir, digest.Hex))
	if u.err != nil {
		c.mu.Lock()
		delete(c.byDigest, digest.String())
		c.mu.Unlock()
	}
	close(u.done)
	return u.root, u.err
}

// unpackImage writes img's flattened file system (mutate.Extract: layers in order, whiteouts
// applied) to dir and returns dir, or "" (and nothing on disk) when the image has no files.
// It unpacks beside dir and renames, so a half-unpacked tree is never used; files keep
// their modes and owners (the image's users own what they own on a real node too).
func unpackImage(img v1.Image, dir string) (string, error) {
	if _, err := os.Stat(dir); err == nil {
		return dir, nil // unpacked by an earlier node on this Options.RootDir
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpack-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	n, err := untar(rc, tmp)
	if err != nil {
		return "", fmt.Errorf("unpack the image: %w", err)
	}
	if n == 0 {
		return "", nil
	}
	// The overlay's root directory takes the lower layer's attributes: 0755, as a runtime's.
	if err := os.Chmod(tmp, 0o755); err != nil { //nolint:gosec // a root file system.
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// untar writes a tar stream's directories, files, symlinks and hard links under dir, through
// an os.Root so that no entry (a "../" name, a path through a symlink of the image) lands
// outside it, and returns how many entries it wrote. Devices and FIFOs are skipped: /dev is
// the host's in every container. Hard links are made last: mutate.Extract gives the upper
// layers first, so a link can come before its target.
func untar(r io.Reader, dir string) (int, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer func() { _ = root.Close() }()
	tr := tar.NewReader(r)
	n := 0
	var links []*tar.Header
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		name := clean(h.Name)
		if name == "" {
			continue
		}
		if parent := path.Dir(name); parent != "." {
			if err := root.MkdirAll(parent, 0o755); err != nil {
				return n, fmt.Errorf("%s: %w", h.Name, err)
			}
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(name, 0o755)
		case tar.TypeReg:
			err = writeFile(root, name, tr)
		case tar.TypeSymlink:
			_ = root.Remove(name)
			err = root.Symlink(h.Linkname, name)
		case tar.TypeLink:
			links = append(links, h)
			continue
		default:
			continue
		}
		if err == nil {
			err = root.Lchown(name, h.Uid, h.Gid)
		}
		// After chown, which clears setuid and setgid bits.
		if mode := h.FileInfo().Mode(); err == nil && h.Typeflag != tar.TypeSymlink {
			err = root.Chmod(name, mode.Perm()|mode&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky))
		}
		if err != nil {
			return n, fmt.Errorf("%s: %w", h.Name, err)
		}
		n++
	}
	for _, h := range links {
		name := clean(h.Name)
		_ = root.Remove(name)
		if err := root.Link(clean(h.Linkname), name); err != nil {
			return n, fmt.Errorf("%s: %w", h.Name, err)
		}
		n++
	}
	return n, nil
}

// clean makes a tar entry's name relative to the root: "./usr/bin/" is "usr/bin".
func clean(name string) string { return strings.TrimPrefix(path.Clean("/"+name), "/") }

func writeFile(root *os.Root, name string, r io.Reader) error {
	_ = root.Remove(name)
	f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
