package images

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Manager builds the operator's image: the static manager at /manager (its entrypoint; the
// tunnel agents of `ferry tunnel-api` run it too, as `/manager tunnel-agent ...`), run as
// nonroot, as the Dockerfile at the repository's root builds it with a container engine.
// The binary carries its own CA roots (cmd/manager imports x509roots/fallback), so the
// image has no ca-certificates.
func (b *Builder) Manager(ctx context.Context) (v1.Image, error) {
	bin, err := b.ManagerBinary(ctx)
	if err != nil {
		return nil, err
	}
	data, err := readBinary(bin)
	if err != nil {
		return nil, err
	}
	return assemble(imageSpec{
		layers: []layerSpec{
			{entries: baseEntries(), createdBy: "ferry hack/images: nonroot user"},
			{entries: []entry{file("manager", 0o755, data)}, createdBy: "ferry hack/images: CGO_ENABLED=0 go build -trimpath ./cmd/manager"},
		},
		entrypoint: []string{"/manager"},
		labels:     b.labels("ferry", "Apache-2.0", nil),
	}, b.created)
}

// ManagerBinary returns the static manager binary the manager image holds:
// Options.ManagerBinary, else built from ./cmd/manager into the cache once per Builder.
func (b *Builder) ManagerBinary(ctx context.Context) (string, error) {
	if b.managerBinary != "" {
		return b.managerBinary, nil
	}
	return b.goBinary(ctx, "manager", "./cmd/manager")
}
