package node

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// buildImageRoot assembles the root of a container of an image with files at root: an
// overlay whose lower layer is the unpacked image (s.Rootfs, shared by every container of
// the image and never written) and whose upper layer is on a tmpfs under layers, so that
// writes stay in memory and vanish with the container, as with a runtime's writable layer.
// /dev and /sys are bound from the host and /proc mounted fresh after pivot_root, as for
// host-directory roots; /etc/hosts, /etc/hostname and /etc/resolv.conf are the node's.
func (s *launchSpec) buildImageRoot(root, layers string) error {
	for _, dir := range []string{root, layers} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := syscall.Mount("tmpfs", layers, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", layers, err)
	}
	upper, work := filepath.Join(layers, "upper"), filepath.Join(layers, "work")
	for _, dir := range []string{upper, work} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", s.Rootfs, upper, work)
	if err := syscall.Mount("overlay", root, "overlay", 0, opts); err != nil {
		return fmt.Errorf("overlay the image's root file system: %w", err)
	}
	// Through an os.Root: the image's own symlinks (an /etc/hosts pointing at /run/...)
	// must resolve inside it, never to the host's files.
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	for _, dir := range []string{"proc", "sys", "dev", "etc", oldRoot[1:]} {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create /%s in the image's root: %w", dir, err)
		}
	}
	for _, dir := range []string{"sys", "dev"} {
		if info, err := r.Lstat(dir); err != nil || !info.IsDir() {
			return fmt.Errorf("the image's /%s is not a directory", dir)
		}
		if err := bindMount("/"+dir, filepath.Join(root, dir), false); err != nil {
			return err
		}
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for name, content := range map[string][]byte{"hosts": []byte(s.Hosts), "hostname": []byte(s.Hostname + "\n"), "resolv.conf": resolv} {
		p := filepath.Join("etc", name)
		if err := r.RemoveAll(p); err != nil {
			return err
		}
		if err := r.WriteFile(p, content, 0o644); err != nil {
			return fmt.Errorf("write /%s: %w", p, err)
		}
	}
	return nil
}
