package dvm_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// entry is what the comparison checks of one file: type and mode, owner, size, time,
// content, link target, and which other paths share its inode (hard links).
type entry struct {
	mode       fs.FileMode
	uid, gid   uint32
	size       int64
	mtime      int64
	sum        string
	target     string
	linkGroup  string
	blocksUsed int64
}

// snapshot describes every path under root (relative paths; "." is root itself).
func snapshot(root string) (map[string]entry, error) {
	out := map[string]entry{}
	inodes := map[uint64][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "lost+found" {
			return filepath.SkipDir
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		e := entry{mode: info.Mode(), uid: st.Uid, gid: st.Gid, mtime: info.ModTime().UnixNano(), blocksUsed: st.Blocks * 512}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if e.target, err = os.Readlink(path); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			e.size = info.Size()
			if e.sum, err = sha(path); err != nil {
				return err
			}
			if st.Nlink > 1 {
				inodes[st.Ino] = append(inodes[st.Ino], rel)
			}
		}
		out[rel] = e
		return nil
	})
	for _, paths := range inodes {
		sort.Strings(paths)
		for _, p := range paths {
			e := out[p]
			e.linkGroup = strings.Join(paths, ",")
			out[p] = e
		}
	}
	return out, err
}

func sha(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// diff lists the differences between two snapshots; sparse files must stay sparse (the
// destination may allocate less, never much more).
func diff(src, dst map[string]entry) []string {
	var out []string
	for p, s := range src {
		d, ok := dst[p]
		if !ok {
			out = append(out, "missing: "+p)
			continue
		}
		allocated := d.blocksUsed
		s.blocksUsed, d.blocksUsed = 0, 0
		if s != d {
			out = append(out, fmt.Sprintf("%s: source %+v, destination %+v", p, s, d))
		}
		if s.mode.IsRegular() && src[p].blocksUsed < s.size/2 && allocated > src[p].blocksUsed+1<<20 {
			out = append(out, fmt.Sprintf("%s: sparse on the source (%d bytes allocated) but %d on the destination", p, src[p].blocksUsed, allocated))
		}
	}
	for p := range dst {
		if _, ok := src[p]; !ok {
			out = append(out, "extra: "+p)
		}
	}
	sort.Strings(out)
	return out
}

// fill writes mixed content under root: large and small files, empty directories, symlinks
// (relative, absolute, dangling), hard links, a sparse file, odd modes and owners, old times.
func fill(root string, seed byte, large int) error {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	var firstErr error
	func() {
		defer func() {
			if r := recover(); r != nil {
				firstErr = fmt.Errorf("fill %s: %v", root, r)
			}
		}()
		must(os.MkdirAll(filepath.Join(root, "dir/sub/deeper"), 0o755))
		must(os.MkdirAll(filepath.Join(root, "empty/also-empty"), 0o700))
		big := make([]byte, large)
		for i := range big {
			big[i] = byte(i*7) ^ seed ^ byte(i>>13)
		}
		must(os.WriteFile(filepath.Join(root, "large.bin"), big, 0o644))
		for i := range 200 {
			must(os.WriteFile(filepath.Join(root, "dir/sub", fmt.Sprintf("small-%03d.txt", i)), []byte(strings.Repeat(fmt.Sprintf("%d-%d ", seed, i), i%17)), 0o640))
		}
		must(os.WriteFile(filepath.Join(root, "dir/sub/deeper/script.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755))
		must(os.WriteFile(filepath.Join(root, "secret.key"), []byte("key"), 0o600))
		must(os.WriteFile(filepath.Join(root, "empty-file"), nil, 0o444))
		must(os.Symlink("dir/sub/small-001.txt", filepath.Join(root, "relative-link")))
		must(os.Symlink("/etc/hostname", filepath.Join(root, "absolute-link")))
		must(os.Symlink("does/not/exist", filepath.Join(root, "dangling-link")))
		must(os.Symlink("../../secret.key", filepath.Join(root, "dir/sub/up-link")))
		must(os.Link(filepath.Join(root, "large.bin"), filepath.Join(root, "dir/hardlink-to-large")))
		must(os.Link(filepath.Join(root, "secret.key"), filepath.Join(root, "empty/hardlink-to-key")))
		sparse, err := os.Create(filepath.Join(root, "sparse.img"))
		must(err)
		_, err = sparse.WriteAt([]byte("start"), 0)
		must(err)
		_, err = sparse.WriteAt([]byte("middle"), 64<<20)
		must(err)
		must(sparse.Truncate(128 << 20))
		must(sparse.Close())
		must(os.Chown(filepath.Join(root, "secret.key"), 1234, 5678))
		must(os.Lchown(filepath.Join(root, "relative-link"), 4321, 8765))
		must(os.Chown(filepath.Join(root, "dir/sub"), 1000, 1000))
		must(os.Chmod(filepath.Join(root, "dir"), 0o2775|fs.ModeSetgid))
		must(os.Chmod(filepath.Join(root, "empty"), 0o1777|fs.ModeSticky))
		old := mustTime("2020-02-29T12:34:56.123456789Z")
		must(os.Chtimes(filepath.Join(root, "secret.key"), old, old))
		must(os.Chtimes(filepath.Join(root, "dir/sub/deeper"), old, old))
	}()
	return firstErr
}
