package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// entry is one file of a layer. Paths are relative to the image's root, without a leading
// slash ("usr/bin/rsync").
type entry struct {
	path string
	// typ is tar.TypeDir, tar.TypeReg or tar.TypeSymlink (hard links are copied into
	// regular files when they are read, so that sorting cannot put a link before its target).
	typ  byte
	mode int64 // permission bits, with setuid, setgid and sticky
	uid  int
	gid  int
	data []byte // a regular file's content
	link string // a symlink's target
}

func dir(p string, mode int64, uid, gid int) entry {
	return entry{path: p, typ: tar.TypeDir, mode: mode, uid: uid, gid: gid}
}

func file(p string, mode int64, data []byte) entry {
	return entry{path: p, typ: tar.TypeReg, mode: mode, data: data}
}

func symlink(p, target string) entry {
	return entry{path: p, typ: tar.TypeSymlink, mode: 0o777, link: target}
}

// sameAs reports whether two entries for one path describe the same file.
func (e entry) sameAs(o entry) bool {
	return e.typ == o.typ && e.mode == o.mode && e.uid == o.uid && e.gid == o.gid &&
		e.link == o.link && bytes.Equal(e.data, o.data)
}

// newLayer builds a layer of entries that is the same byte for byte whenever the entries
// are: entries sorted by path (a parent sorts before its children), missing parent
// directories added (0755, root), every time set to mtime, no user or group names, no
// access or change times. One path given twice must describe the same file, else
// newLayer fails: two packages disagreeing about a file is a build error, not a last-wins.
func newLayer(entries []entry, mtime time.Time) (v1.Layer, error) {
	byPath := map[string]entry{}
	for _, e := range entries {
		e.path = strings.TrimPrefix(path.Clean("/"+e.path), "/")
		if e.path == "" {
			continue // the root itself is the runtime's
		}
		if prev, ok := byPath[e.path]; ok {
			if !prev.sameAs(e) {
				return nil, fmt.Errorf("layer: %s is given twice, differently", e.path)
			}
			continue
		}
		byPath[e.path] = e
		for p := path.Dir(e.path); p != "."; p = path.Dir(p) {
			if _, ok := byPath[p]; !ok {
				byPath[p] = dir(p, 0o755, 0, 0)
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime = mtime.UTC().Truncate(time.Second)
	for _, p := range paths {
		e := byPath[p]
		h := &tar.Header{Name: p, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: mtime, Format: tar.FormatPAX}
		switch e.typ {
		case tar.TypeDir:
			h.Name += "/"
		case tar.TypeReg:
			h.Size = int64(len(e.data))
		case tar.TypeSymlink:
			h.Linkname = e.link
		default:
			return nil, fmt.Errorf("layer: %s: unsupported type %q", p, e.typ)
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", p, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	// gzip of compress/gzip at its default level, with no name or time in its header: the
	// same tar gives the same blob with the same Go toolchain.
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}
