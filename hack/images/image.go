package images

import (
	"fmt"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The OCI annotation keys the images carry as labels (see Builder.labels).
const (
	LabelSource   = "org.opencontainers.image.source"
	LabelRevision = "org.opencontainers.image.revision"
	LabelVersion  = "org.opencontainers.image.version"
	LabelTitle    = "org.opencontainers.image.title"
	LabelLicenses = "org.opencontainers.image.licenses"
	LabelCreated  = "org.opencontainers.image.created"
	// LabelPackages lists the Debian packages of an image built from .deb files
	// ("name=version", space-separated, sorted), since their versions are the mirror's of
	// the day of the build and no digest of them shows elsewhere.
	LabelPackages = "io.ferrymtc.image.debian-packages"
)

// Nonroot is the user and group the images run as: distroless's nonroot (65532), which
// upstream Velero's images use too.
const (
	Nonroot     = 65532
	NonrootUser = "65532:65532"
)

// defaultPath is the PATH of every image (the Debian default).
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// layerSpec is one layer of an image and what made it (its history entry).
type layerSpec struct {
	entries   []entry
	createdBy string
}

// imageSpec is everything an image is made of.
type imageSpec struct {
	layers     []layerSpec
	entrypoint []string
	cmd        []string
	env        []string
	workingDir string
	labels     map[string]string
}

// assemble builds an OCI image (OCI manifest and config media types) of spec for linux on
// this machine's architecture, every time in it (layer files, history, config) set to
// created, so that the same spec gives the same digest.
func assemble(spec imageSpec, created time.Time) (v1.Image, error) {
	created = created.UTC().Truncate(time.Second)
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	adds := make([]mutate.Addendum, 0, len(spec.layers))
	for _, ls := range spec.layers {
		l, err := newLayer(ls.entries, created)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ls.createdBy, err)
		}
		adds = append(adds, mutate.Addendum{Layer: l, MediaType: types.OCILayer,
			History: v1.History{Created: v1.Time{Time: created}, CreatedBy: ls.createdBy}})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = runtime.GOARCH, "linux"
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		User: NonrootUser, Entrypoint: spec.entrypoint, Cmd: spec.cmd,
		Env: append([]string{defaultPath}, spec.env...), WorkingDir: spec.workingDir, Labels: spec.labels,
	}
	return mutate.ConfigFile(img, cf)
}

// baseEntries are what every image has besides its programs, in place of a base image:
// /etc/passwd and /etc/group naming root and nonroot (so tools that look a user up find
// one), nonroot's home, and /tmp. This is distroless/static's nonroot user without its
// ca-certificates and tzdata, written here rather than pulled, so that nothing outside this
// tree changes an image.
func baseEntries() []entry {
	return []entry{
		file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\n"+
			"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")),
		file("etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n")),
		dir("home/nonroot", 0o700, Nonroot, Nonroot),
		dir("root", 0o700, 0, 0),
		dir("tmp", 0o1777, 0, 0),
	}
}
