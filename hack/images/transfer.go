package images

import (
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// transferPackages are the Debian packages of the transfer image: rsync and stunnel, and
// what pkg/transfer's client script runs around them (`sh -c` with find, wc, grep, cat,
// tail; rsync starts stunnel through /bin/sh -c for RSYNC_CONNECT_PROG). libgcc-s1 is no
// one's DT_NEEDED: glibc loads it at run time to unwind a thread that exits, which stunnel's
// threads do ("libgcc_s.so.1 must be installed for pthread_exit to work" without it).
var transferPackages = []string{"rsync", "stunnel4", "dash", "coreutils", "grep", "findutils", "libgcc-s1"}

// transferWorkDir is where stunnel writes its client log (pkg/transfer.WorkDir; an emptyDir
// in the pods).
const transferWorkDir = "var/run/ferry-transfer"

// Transfer builds the transfer image of DirectVolumeMigrations (settings.DefaultTransferImage)
// from Debian packages of this machine's apt sources, as hack/images/transfer/Dockerfile
// describes it: transferPackages with the shared libraries they load and the dynamic
// loader (debClosure), on a merged-/usr root, run as nonroot. The packages' versions are
// the label LabelPackages. Pods set their command; the image has no entrypoint.
func (b *Builder) Transfer(ctx context.Context) (v1.Image, error) {
	pkgs, err := b.debClosure(ctx, transferPackages)
	if err != nil {
		return nil, fmt.Errorf("transfer image: %w", err)
	}
	var files []entry
	var versions []string
	for _, d := range pkgs {
		files = append(files, d.entries...)
		versions = append(versions, d.name+"="+d.version)
	}
	files, err = mergeDirs(files)
	if err != nil {
		return nil, err
	}
	for top, to := range topLevelLinks {
		files = append(files, symlink(top, to))
	}
	return assemble(imageSpec{
		layers: []layerSpec{
			{entries: baseEntries(), createdBy: "ferry hack/images: nonroot user"},
			{entries: files, createdBy: "ferry hack/images: Debian packages " + strings.Join(versions, " ")},
			{entries: []entry{dir(transferWorkDir, 0o755, 0, 0)}, createdBy: "ferry hack/images: mkdir /" + transferWorkDir},
		},
		// rsync's and stunnel's licences; every package's copyright file is in the image.
		labels: b.labels("ferry-transfer", "GPL-3.0-or-later AND GPL-2.0-or-later", map[string]string{
			LabelPackages: strings.Join(versions, " "),
		}),
	}, b.created)
}

// mergeDirs keeps the first of directories several packages ship (they agree on little but
// existence: a package's own mode for /usr/lib is not a statement about other packages'),
// and fails when two packages ship different files at one path.
func mergeDirs(files []entry) ([]entry, error) {
	seen := map[string]int{}
	out := files[:0]
	for _, e := range files {
		i, ok := seen[e.path]
		switch {
		case !ok:
			seen[e.path] = len(out)
			out = append(out, e)
		case e.typ == 'd' && out[i].typ == 'd', out[i].sameAs(e):
		default:
			return nil, fmt.Errorf("transfer image: two packages ship %s differently", e.path)
		}
	}
	return out, nil
}
