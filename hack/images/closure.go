package images

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// debClosure returns the packages roots need to run: roots, and of the packages they depend
// on (transitively), those that hold a shared library some ELF file of the set needs
// (DT_NEEDED) or its dynamic loader (PT_INTERP). Dependencies that provide no such file
// (perl, systemd, netbase of stunnel4's Depends, for scripts and services a container does
// not run) are left out, which is what keeps the image small; it fails when a needed
// library is in no dependency. The result is sorted by name.
func (b *Builder) debClosure(ctx context.Context, roots []string) ([]*deb, error) {
	included := map[string]*deb{}
	// pool holds packages fetched as dependencies but not (yet) needed; examined says of
	// every name looked up whether apt has a candidate for it.
	pool := map[string]*deb{}
	examined := map[string]bool{}
	found, err := b.fetchDebs(ctx, roots)
	if err != nil {
		return nil, err
	}
	for _, name := range roots {
		d, ok := found[name]
		if !ok {
			return nil, fmt.Errorf("apt has no package %s (run apt-get update?)", name)
		}
		included[d.name], examined[name] = d, true
	}
	for {
		missing := missingLibraries(included)
		if len(missing) == 0 {
			break
		}
		// Fetch the dependencies of what is included that were never looked at, all at
		// once; of each dependency's alternatives, the first apt has a candidate for counts
		// (the others are fetched only if it has none, in a later round).
		var lookup []string
		for _, name := range sortedKeys(included) {
			for _, alts := range included[name].depends {
				for _, alt := range alts {
					has, seen := examined[alt]
					if !seen && !slices.Contains(lookup, alt) {
						lookup = append(lookup, alt)
					}
					if !seen || has {
						break
					}
				}
			}
		}
		found, err := b.fetchDebs(ctx, lookup)
		if err != nil {
			return nil, err
		}
		for _, name := range lookup {
			d, ok := found[name]
			examined[name] = ok
			if ok && included[d.name] == nil {
				pool[d.name] = d
			}
		}
		progress := false
		for _, name := range sortedKeys(pool) {
			if providesAny(pool[name], missing) {
				included[name] = pool[name]
				delete(pool, name)
				progress = true
			}
		}
		if !progress && len(lookup) == 0 {
			return nil, fmt.Errorf("no dependency of %s provides %s", strings.Join(sortedKeys(included), ", "), strings.Join(sortedKeys(missing), ", "))
		}
	}
	out := make([]*deb, 0, len(included))
	for _, name := range sortedKeys(included) {
		out = append(out, included[name])
	}
	return out, nil
}

// missingLibraries are the sonames (and loader paths) that ELF files of pkgs need and no
// file of pkgs provides.
func missingLibraries(pkgs map[string]*deb) map[string]bool {
	provided := map[string]bool{}
	needed := map[string]bool{}
	for _, d := range pkgs {
		for _, e := range d.entries {
			if e.typ == tar.TypeReg || e.typ == tar.TypeSymlink {
				provided["/"+e.path] = true
				if strings.HasPrefix(e.path, "usr/lib") {
					provided[path.Base(e.path)] = true
				}
			}
			if e.typ != tar.TypeReg || !bytes.HasPrefix(e.data, []byte(elf.ELFMAG)) {
				continue
			}
			libs, interp := elfNeeds(e.data)
			for _, l := range libs {
				needed[l] = true
			}
			if interp != "" {
				needed[mergedAbs(interp)] = true
			}
		}
	}
	missing := map[string]bool{}
	for n := range needed {
		if !provided[n] {
			missing[n] = true
		}
	}
	return missing
}

// providesAny reports whether d holds one of the missing libraries.
func providesAny(d *deb, missing map[string]bool) bool {
	for _, e := range d.entries {
		if e.typ != tar.TypeReg && e.typ != tar.TypeSymlink {
			continue
		}
		if missing["/"+e.path] || strings.HasPrefix(e.path, "usr/lib") && missing[path.Base(e.path)] {
			return true
		}
	}
	return false
}

// elfNeeds returns an ELF file's DT_NEEDED libraries and its PT_INTERP loader; nothing for
// a file that does not parse (a data file that starts like ELF).
func elfNeeds(data []byte) ([]string, string) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, ""
	}
	defer func() { _ = f.Close() }()
	libs, _ := f.ImportedLibraries()
	interp := ""
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			raw := make([]byte, p.Filesz)
			if _, err := p.ReadAt(raw, 0); err == nil {
				interp = string(bytes.TrimRight(raw, "\x00"))
			}
		}
	}
	return libs, interp
}

// mergedAbs is mergedUsr for an absolute path.
func mergedAbs(p string) string {
	return "/" + mergedUsr(strings.TrimPrefix(path.Clean(p), "/"))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return slices.Clip(keys)
}
