package install

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferrymtc/ferry/test/node"
)

// Preloaded is a node.ImageResolver of images loaded into a node without a registry, as
// `kind load docker-image` does: for the demo, whose destination has no internal registry
// (one would bring the ImageStream API, which turns on direct image migration and changes
// what the demo's plan needs). Keys are digest references (PreloadReference).
type Preloaded map[string]v1.Image

// PreloadReference is the reference a preloaded operator image goes by: config/default's
// repository at the image's digest.
func PreloadReference(img v1.Image) (string, error) {
	objs, err := Build("config/default")
	if err != nil {
		return "", err
	}
	d, err := operatorDeployment(objs)
	if err != nil {
		return "", err
	}
	shipped, err := containerImage(d, managerContainer)
	if err != nil {
		return "", err
	}
	ref, err := name.ParseReference(shipped)
	if err != nil {
		return "", fmt.Errorf("config/default's image %q: %w", shipped, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	return ref.Context().Name() + "@" + digest.String(), nil
}

// Resolve implements node.ImageResolver: a preloaded image resolves to itself; others are
// not the node's to pull.
func (p Preloaded) Resolve(_ context.Context, image string) (node.ResolvedImage, bool, error) {
	img, ok := p[image]
	if !ok {
		return node.ResolvedImage{}, false, nil
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return node.ResolvedImage{}, true, err
	}
	return node.ResolvedImage{ID: image, Entrypoint: cfg.Config.Entrypoint, Cmd: cfg.Config.Cmd,
		User: node.ImageUser(cfg.Config.User), Image: img}, true, nil
}

var _ node.ImageResolver = Preloaded(nil)
