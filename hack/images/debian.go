package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// deb is a Debian binary package as the builder uses it: its control fields and its files,
// laid out for a merged-/usr root (see mergedUsr), documentation left out.
type deb struct {
	name, version string
	// depends are Pre-Depends and Depends, each a list of alternatives (package names,
	// without versions or architecture qualifiers).
	depends [][]string
	entries []entry
}

// fetchDebs returns the packages names as apt's candidates of this machine's sources, by
// requested name; a name apt has no candidate for (a virtual package, one of another
// architecture) is absent. Each .deb comes from the cache (bin/images/cache/debs, by file
// name, which holds the version) or is downloaded with `apt-get download` and checked
// against the index's SHA-256. apt runs once for all names (each run reads its whole
// package cache: seconds on a loaded machine).
func (b *Builder) fetchDebs(ctx context.Context, names []string) (map[string]*deb, error) {
	uris, err := aptURIs(ctx, names)
	if err != nil {
		return nil, err
	}
	debs := filepath.Join(b.cacheDir, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return nil, err
	}
	var missing []string
	for _, name := range names {
		if u, ok := uris[name]; ok {
			if _, err := os.Stat(filepath.Join(debs, u.file)); err != nil {
				missing = append(missing, name)
			}
		}
	}
	if err := b.download(ctx, missing, uris, debs); err != nil {
		return nil, err
	}
	out := map[string]*deb{}
	for _, name := range names {
		if u, ok := uris[name]; ok {
			if out[name], err = readDeb(ctx, filepath.Join(debs, u.file)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// aptURI is what `apt-get download --print-uris` says of a package.
type aptURI struct {
	file   string
	sha256 string
}

// aptURIs asks apt for the candidate .deb of each name.
func aptURIs(ctx context.Context, names []string) (map[string]aptURI, error) {
	out := map[string]aptURI{}
	if len(names) == 0 {
		return out, nil
	}
	// In an empty directory: apt prints nothing for a file the working directory holds.
	tmp, err := os.MkdirTemp("", "ferry-images-apt-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	cmd := exec.CommandContext(ctx, "apt-get", append([]string{"download", "--print-uris"}, names...)...)
	cmd.Dir = tmp
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	// apt prints the names it has candidates for and fails for the others; any other error
	// is one.
	for line := range strings.SplitSeq(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && strings.HasPrefix(line, "E:") && !strings.Contains(line, "no candidate") && !strings.Contains(line, "Unable to locate package") {
			return nil, fmt.Errorf("apt-get download --print-uris: %s (run apt-get update?)", stderr.String())
		}
	}
	if err != nil && stdout == nil {
		return nil, fmt.Errorf("apt-get download --print-uris: %w: %s", err, stderr.String())
	}
	// 'http://.../rsync_3.2.7-1_amd64.deb' rsync_3.2.7-1_amd64.deb 498456 SHA256:abcd...
	for line := range strings.SplitSeq(strings.TrimSpace(string(stdout)), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[3], "SHA256:") {
			return nil, fmt.Errorf("apt-get download --print-uris: unexpected line %q", line)
		}
		for _, name := range names {
			if strings.HasPrefix(fields[1], name+"_") {
				out[name] = aptURI{file: fields[1], sha256: strings.TrimPrefix(fields[3], "SHA256:")}
			}
		}
	}
	return out, nil
}

// download fetches packages with one apt-get into a temporary directory, checks their
// digests and moves them into the cache directory debs.
func (b *Builder) download(ctx context.Context, names []string, uris map[string]aptURI, debs string) error {
	if len(names) == 0 {
		return nil
	}
	b.logf("downloading %s", strings.Join(names, " "))
	tmp, err := os.MkdirTemp(debs, ".download-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	cmd := exec.CommandContext(ctx, "apt-get", append([]string{"download", "-q"}, names...)...)
	cmd.Dir = tmp
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get download: %w\n%s", err, msg)
	}
	for _, name := range names {
		u := uris[name]
		got := filepath.Join(tmp, u.file)
		data, err := os.ReadFile(got) //nolint:gosec // apt's download, in our own directory.
		if err != nil {
			return fmt.Errorf("apt-get download %s: %w", name, err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != u.sha256 {
			return fmt.Errorf("%s: SHA-256 %x, the index says %s", u.file, sum, u.sha256)
		}
		if err := os.Rename(got, filepath.Join(debs, u.file)); err != nil {
			return err
		}
	}
	return nil
}

// readDeb reads a .deb's control fields and files with dpkg-deb (its data archive may be
// compressed with xz or zstd, which the standard library does not read).
func readDeb(ctx context.Context, file string) (*deb, error) {
	fields, err := exec.CommandContext(ctx, "dpkg-deb", "--field", file, "Package", "Version", "Pre-Depends", "Depends").Output()
	if err != nil {
		return nil, fmt.Errorf("dpkg-deb --field %s: %w", file, err)
	}
	d := &deb{}
	for line := range strings.SplitSeq(string(fields), "\n") {
		key, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		switch key {
		case "Package":
			d.name = value
		case "Version":
			d.version = value
		case "Pre-Depends", "Depends":
			d.depends = append(d.depends, parseDepends(value)...)
		}
	}
	data, err := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", file).Output()
	if err != nil {
		return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w", file, err)
	}
	if d.entries, err = debEntries(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return d, nil
}

// parseDepends parses a Depends field: "a (>= 1) | b, c:any" gives [[a b] [c]].
func parseDepends(field string) [][]string {
	var out [][]string
	for clause := range strings.SplitSeq(field, ",") {
		var alts []string
		for alt := range strings.SplitSeq(clause, "|") {
			name, _, _ := strings.Cut(strings.TrimSpace(alt), " ")
			name, _, _ = strings.Cut(name, ":")
			if name != "" {
				alts = append(alts, name)
			}
		}
		if len(alts) > 0 {
			out = append(out, alts)
		}
	}
	return out
}

// skipped are the directories of a package left out of images: documentation (but for
// each package's copyright file), manuals, translations and packaging metadata, which
// nothing in a container reads.
var skipped = []string{
	"usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/locale",
	"usr/share/bug", "usr/share/menu",
}

// debEntries reads a package's data archive into entries, on a merged-/usr layout, hard
// links turned into copies.
func debEntries(r io.Reader) ([]entry, error) {
	tr := tar.NewReader(r)
	var out []entry
	byPath := map[string]int{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		orig := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		p := mergedUsr(orig)
		if p == "" || isSkipped(p) || topLevelLinks[p] != "" {
			continue
		}
		e := entry{path: p, mode: h.Mode & 0o7777, uid: h.Uid, gid: h.Gid}
		switch h.Typeflag {
		case tar.TypeDir:
			e.typ = tar.TypeDir
		case tar.TypeReg:
			e.typ = tar.TypeReg
			if e.data, err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("%s: %w", h.Name, err)
			}
		case tar.TypeSymlink:
			e.typ, e.mode = tar.TypeSymlink, 0o777
			e.link = relink(orig, p, h.Linkname)
		case tar.TypeLink:
			target := mergedUsr(strings.TrimPrefix(path.Clean("/"+h.Linkname), "/"))
			i, ok := byPath[target]
			if !ok {
				return nil, fmt.Errorf("%s: hard link to %s, which comes later or not at all", h.Name, h.Linkname)
			}
			e.typ, e.data = tar.TypeReg, out[i].data
		default:
			return nil, fmt.Errorf("%s: unsupported file type %q", h.Name, h.Typeflag)
		}
		byPath[p] = len(out)
		out = append(out, e)
	}
}

func isSkipped(p string) bool {
	if strings.HasPrefix(p, "usr/share/doc/") && path.Base(p) == "copyright" {
		return false // each package's licence stays with it
	}
	for _, s := range skipped {
		if p == s || strings.HasPrefix(p, s+"/") {
			return true
		}
	}
	return false
}

// topLevelLinks are merged /usr's symlinks at the root (Debian's layout since bookworm).
var topLevelLinks = map[string]string{"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}

// mergedUsr moves a path under /bin, /sbin, /lib or /lib64 to its place under /usr, as
// Debian's merged /usr has it: packages of bookworm still ship files at the old places,
// while their binaries (PT_INTERP /lib64/ld-linux-x86-64.so.2) and absolute symlinks reach
// them through the top-level links.
func mergedUsr(p string) string {
	top, rest, _ := strings.Cut(p, "/")
	if to, ok := topLevelLinks[top]; ok && rest != "" {
		return to + "/" + rest
	}
	return p
}

// relink keeps a relative symlink pointing at the same file after mergedUsr moved it (or
// its target): the target is resolved where the package put the link, moved the same way,
// and made relative to the link's new directory. Absolute targets stay as they are.
func relink(orig, moved, link string) string {
	if path.IsAbs(link) {
		return link
	}
	target := mergedUsr(strings.TrimPrefix(path.Join("/", path.Dir(orig), link), "/"))
	rel, err := filepath.Rel(path.Dir(moved), target)
	if err != nil {
		return link
	}
	return rel
}
