package imagecopy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferrymtc/ferry/pkg/imagecopy/registrytest"
)

// layerSize is the uncompressed size of a test layer (random, so its gzip is about as big).
const layerSize = 256 << 10

// startRegistry starts a distribution registry for the test, stopped at its end. Tests that
// need one are skipped when the pinned binary is not built (make registry).
func startRegistry(t *testing.T, o registrytest.Options) *registrytest.Registry {
	t.Helper()
	bin, ok := registrytest.Binary(".")
	if !ok {
		t.Skipf("the registry binary %s is not built: run make registry", bin)
	}
	o.Binary = bin
	o.Dir = t.TempDir()
	r, err := registrytest.Start(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// plainEndpoint is the Endpoint of a registry without TLS or authentication.
func plainEndpoint(r *registrytest.Registry) Endpoint {
	return Endpoint{Host: r.Host, PlainHTTP: true}
}

// mustRegistry builds the Registry of ep.
func mustRegistry(t *testing.T, ep Endpoint) *Registry {
	t.Helper()
	reg, err := NewRegistry(ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.CloseIdleConnections)
	return reg
}

// pusher writes test images to one registry.
type pusher struct {
	t    *testing.T
	reg  *registrytest.Registry
	opts []remote.Option
}

func newPusher(t *testing.T, reg *registrytest.Registry, auth authn.Authenticator) *pusher {
	opts := []remote.Option{remote.WithContext(t.Context())}
	if auth != nil {
		opts = append(opts, remote.WithAuth(auth))
	}
	if reg.CA != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(reg.CA)
		opts = append(opts, remote.WithTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}))
	}
	return &pusher{t: t, reg: reg, opts: opts}
}

func (p *pusher) ref(repo, tag string) name.Tag {
	p.t.Helper()
	ref, err := name.NewTag(p.reg.Host + "/" + repo + ":" + tag)
	if err != nil {
		p.t.Fatal(err)
	}
	return ref
}

// image pushes img as repo:tag and returns its digest.
func (p *pusher) image(repo, tag string, img v1.Image) string {
	p.t.Helper()
	if err := remote.Write(p.ref(repo, tag), img, p.opts...); err != nil {
		p.t.Fatalf("push %s:%s: %v", repo, tag, err)
	}
	return digestOf(p.t, img)
}

// index pushes idx as repo:tag and returns its digest.
func (p *pusher) index(repo, tag string, idx v1.ImageIndex) string {
	p.t.Helper()
	if err := remote.WriteIndex(p.ref(repo, tag), idx, p.opts...); err != nil {
		p.t.Fatalf("push %s:%s: %v", repo, tag, err)
	}
	d, err := idx.Digest()
	if err != nil {
		p.t.Fatal(err)
	}
	return d.String()
}

// manifest reads repo@digest's manifest bytes, nil when the registry does not hold it.
func (p *pusher) manifest(repo, ref string) []byte {
	p.t.Helper()
	r, err := name.ParseReference(p.reg.Host + "/" + repo + refSeparator(ref) + ref)
	if err != nil {
		p.t.Fatal(err)
	}
	desc, err := remote.Get(r, p.opts...)
	if err != nil {
		return nil
	}
	return desc.Manifest
}

func refSeparator(ref string) string {
	if len(ref) > 7 && ref[:7] == "sha256:" {
		return "@"
	}
	return ":"
}

func digestOf(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// layers makes n random gzip layers of media type mt.
func layers(t *testing.T, n int, mt types.MediaType) []v1.Layer {
	t.Helper()
	out := make([]v1.Layer, n)
	for i := range out {
		l, err := random.Layer(layerSize, mt)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = l
	}
	return out
}

// imageOf builds an image of the layers; OCI media types when oci.
func imageOf(t *testing.T, oci bool, ls ...v1.Layer) v1.Image {
	t.Helper()
	base := empty.Image
	if oci {
		base = mutate.ConfigMediaType(mutate.MediaType(base, types.OCIManifestSchema1), types.OCIConfigJSON)
	}
	img, err := mutate.AppendLayers(base, ls...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// indexOf builds an index of the images for linux/amd64 and linux/arm64 (then more).
func indexOf(t *testing.T, mt types.MediaType, imgs ...v1.Image) v1.ImageIndex {
	t.Helper()
	arches := []string{"amd64", "arm64", "ppc64le", "s390x"}
	var adds []mutate.IndexAddendum
	for i, img := range imgs {
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arches[i]}}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, mt), adds...)
}

// blobBytes is the size of the distinct blobs (layers and configs) of the images.
func blobBytes(t *testing.T, imgs ...v1.Image) int64 {
	t.Helper()
	seen := map[v1.Hash]bool{}
	var total int64
	for _, img := range imgs {
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range append(m.Layers, m.Config) {
			if !seen[d.Digest] {
				seen[d.Digest] = true
				total += d.Size
			}
		}
	}
	return total
}

// copyOK copies and fails the test on an error.
func copyOK(ctx context.Context, t *testing.T, c *Copier, src, dst *Registry, dstRepo string, images ...Image) Result {
	t.Helper()
	res, err := c.CopyImages(ctx, src, dst, dstRepo, images)
	if err != nil {
		t.Fatalf("copy: %v (%+v)", err, Classify(err))
	}
	return res
}
