package registry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferrymtc/ferry/test/node"
)

// ImageSpec describes an image that RandomImage, RandomIndex and PushRandomImage build.
type ImageSpec struct {
	// Shared are layers placed first, before the image's own: pass the same layers
	// (RandomLayer) to several images so that they share blobs, as images built FROM one
	// base do.
	Shared []v1.Layer
	// LayerSizes are the sizes in bytes of the image's own layers, each a tar of one file of
	// random content (so they do not compress), after Shared.
	LayerSizes []int64
	// Entrypoint and Cmd go into the image's config: the host command a process node runs
	// for a container of the image without a command, such as ["sleep", "3600"].
	Entrypoint, Cmd []string
	// User is the config's USER, such as "1001"; root when empty.
	User string
	// Platforms, when set, make PushRandomImage push an OCI image index with one image per
	// platform ("linux/amd64", "linux/arm64"), each with Shared and its own random layers of
	// LayerSizes. Empty: a single image for linux on this machine's architecture.
	Platforms []string
	// OCI makes a single image an OCI manifest; a Docker schema 2 manifest (what most
	// registries hold) otherwise. Images of an index are always OCI.
	OCI bool
}

// RandomLayer is a gzipped layer holding one file of size random bytes; its blob digest and
// diff ID are computed once, so pushing it again costs nothing but the upload.
func RandomLayer(size int64) (v1.Layer, error) {
	var gz bytes.Buffer
	digest, diffID := sha256.New(), sha256.New()
	zw, err := gzip.NewWriterLevel(io.MultiWriter(&gz, digest), gzip.NoCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(io.MultiWriter(zw, diffID))
	suffix := make([]byte, 8)
	_, _ = rand.Read(suffix)
	if err := tw.WriteHeader(&tar.Header{
		Name: "ferry/random-" + hex.EncodeToString(suffix), Mode: 0o644, Size: size,
		Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0),
	}); err != nil {
		return nil, err
	}
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		_, _ = rand.Read(buf[:n])
		if _, err := tw.Write(buf[:n]); err != nil {
			return nil, err
		}
		left -= n
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &memLayer{gz: gz.Bytes(), digest: sum(digest), diffID: sum(diffID), mediaType: types.DockerLayer}, nil
}

func sum(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

// memLayer is a layer held in memory, compressed.
type memLayer struct {
	gz             []byte
	digest, diffID v1.Hash
	mediaType      types.MediaType
}

func (l *memLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *memLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *memLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.gz)), nil
}
func (l *memLayer) Uncompressed() (io.ReadCloser, error) {
	return gzip.NewReader(bytes.NewReader(l.gz))
}
func (l *memLayer) Size() (int64, error)                { return int64(len(l.gz)), nil }
func (l *memLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// ociLayer is a layer under OCI's media type, for OCI manifests.
type ociLayer struct{ v1.Layer }

func (ociLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

// RandomImage builds a single image of spec for platform ("os/arch"; linux on this machine's
// architecture when empty): Shared, then fresh random layers of spec.LayerSizes, and a config
// with spec's Entrypoint, Cmd and User, labelled node.HostCommandLabel (a process node runs
// the entrypoint on the host, not from the random layers); an OCI manifest with spec.OCI.
func RandomImage(spec ImageSpec, platform string) (v1.Image, error) {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if platform != "" {
		parsed, err := v1.ParsePlatform(platform)
		if err != nil {
			return nil, err
		}
		p = *parsed
	}
	layers := append([]v1.Layer(nil), spec.Shared...)
	for _, size := range spec.LayerSizes {
		l, err := RandomLayer(size)
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	created := v1.Time{Time: time.Now().UTC().Truncate(time.Second)}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: p.Architecture, OS: p.OS, Variant: p.Variant, Created: created,
		Config: v1.Config{
			Entrypoint: spec.Entrypoint, Cmd: spec.Cmd, User: spec.User,
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			// The layers are data and the entrypoint a host command: a process node runs it
			// on the host rather than from the layers.
			Labels: map[string]string{node.HostCommandLabel: "true"},
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	if spec.OCI {
		for i, l := range layers {
			layers[i] = ociLayer{l}
		}
		img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
	}
	adds := make([]mutate.Addendum, 0, len(layers))
	for _, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{Created: created, CreatedBy: "ferry test/registry"}})
	}
	return mutate.Append(img, adds...)
}

// RandomIndex builds an OCI image index of spec with one OCI image per spec.Platforms entry.
func RandomIndex(spec ImageSpec) (v1.ImageIndex, error) {
	if len(spec.Platforms) == 0 {
		return nil, fmt.Errorf("an image index needs platforms")
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	spec.OCI = true
	for _, platform := range spec.Platforms {
		img, err := RandomImage(spec, platform)
		if err != nil {
			return nil, err
		}
		p, _ := v1.ParsePlatform(platform) // parsed by RandomImage already
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	return idx, nil
}

// PushRandomImage builds the image (or, with spec.Platforms, the image index) of spec and
// pushes it to repository:tag (repository is <namespace>/<name>) with the admin token,
// returning its manifest digest.
func (r *Registry) PushRandomImage(ctx context.Context, repository, tag string, spec ImageSpec) (string, error) {
	if len(spec.Platforms) > 0 {
		idx, err := RandomIndex(spec)
		if err != nil {
			return "", err
		}
		return r.PushIndex(ctx, repository, tag, idx)
	}
	img, err := RandomImage(spec, "")
	if err != nil {
		return "", err
	}
	return r.Push(ctx, repository, tag, img)
}

// Push pushes img to repository:tag with the admin token and returns its manifest digest.
func (r *Registry) Push(ctx context.Context, repository, tag string, img v1.Image) (string, error) {
	ref, err := name.NewTag(r.Repository(repository) + ":" + tag)
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img, r.RemoteOptions(ctx)...); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	return digest.String(), nil
}

// PushIndex pushes idx (and its images) to repository:tag with the admin token and returns
// its digest.
func (r *Registry) PushIndex(ctx context.Context, repository, tag string, idx v1.ImageIndex) (string, error) {
	ref, err := name.NewTag(r.Repository(repository) + ":" + tag)
	if err != nil {
		return "", err
	}
	if err := remote.WriteIndex(ref, idx, r.RemoteOptions(ctx)...); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return "", err
	}
	return digest.String(), nil
}

// Digest returns the manifest digest that reference (a tag, or a digest such as
// "sha256:...", which then proves the registry holds it) names in repository, read through
// the front with the admin token.
func (r *Registry) Digest(ctx context.Context, repository, reference string) (string, error) {
	var ref name.Reference
	var err error
	if strings.Contains(reference, ":") { // tags cannot contain a colon
		ref, err = name.NewDigest(r.Repository(repository) + "@" + reference)
	} else {
		ref, err = name.NewTag(r.Repository(repository) + ":" + reference)
	}
	if err != nil {
		return "", err
	}
	desc, err := remote.Head(ref, r.RemoteOptions(ctx)...)
	if err != nil {
		return "", fmt.Errorf("read the digest of %s: %w", ref, err)
	}
	return desc.Digest.String(), nil
}

// Auth is the admin token as registry credentials (the token as password of any user, as
// OpenShift's registry takes it).
func (r *Registry) Auth() authn.Authenticator {
	return authn.FromConfig(authn.AuthConfig{Username: "admin", Password: r.adminToken})
}

// RemoteOptions are go-containerregistry options that reach the registry through its front
// with the admin token, trusting its CA.
func (r *Registry) RemoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuth(r.Auth()), remote.WithTransport(r.Transport())}
}
