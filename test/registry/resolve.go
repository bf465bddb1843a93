package registry

import (
	"context"
	"fmt"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ferrymtc/ferry/test/node"
)

// Resolve implements node.ImageResolver for the registry's cluster: images at InternalHost
// (how pods name the internal registry) or at Address are pulled from this registry through
// its front, with the admin token (a kubelet pulls with the pod's pull secrets; see doc.go);
// other images are not this registry's (known is false).
//
// The image's manifest (for an index, the image of linux on this machine's architecture) and
// config are read, and the image handed over for its layers (read with ctx); the ID is the reference as the pod wrote its repository, at the digest of
// what the reference names (the index's digest for an index, as containerd reports it).
func (r *Registry) Resolve(ctx context.Context, image string) (node.ResolvedImage, bool, error) {
	ref, err := name.ParseReference(image)
	if err != nil {
		// Not a reference this registry could serve: the node keeps its other rules.
		return node.ResolvedImage{}, false, nil //nolint:nilerr // unknown, not a failed pull
	}
	host := ref.Context().RegistryStr()
	if host != InternalHost && host != r.Address {
		return node.ResolvedImage{}, false, nil
	}
	repo := ref.Context().RepositoryStr()
	var target name.Reference
	switch ref.(type) {
	case name.Digest:
		target, err = name.NewDigest(r.Repository(repo) + "@" + ref.Identifier())
	default:
		target, err = name.NewTag(r.Repository(repo) + ":" + ref.Identifier())
	}
	if err != nil {
		return node.ResolvedImage{}, true, err
	}
	opts := append(r.RemoteOptions(ctx), remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}))
	desc, err := remote.Get(target, opts...)
	if err != nil {
		return node.ResolvedImage{}, true, err
	}
	img, err := desc.Image()
	if err != nil {
		return node.ResolvedImage{}, true, fmt.Errorf("%s: %w", image, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return node.ResolvedImage{}, true, fmt.Errorf("%s: read the image's config: %w", image, err)
	}
	return node.ResolvedImage{
		ID:         ref.Context().Name() + "@" + desc.Digest.String(),
		Entrypoint: cfg.Config.Entrypoint,
		Cmd:        cfg.Config.Cmd,
		User:       node.ImageUser(cfg.Config.User),
		Image:      img,
	}, true, nil
}

var _ node.ImageResolver = (*Registry)(nil)
