package imagecopy

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferrymtc/ferry/pkg/imagecopy/registrytest"
)

// registries starts a source and a destination registry (plain HTTP, no authentication).
func registries(t *testing.T) (srcReg, dstReg *registrytest.Registry, src, dst *Registry) {
	t.Helper()
	srcReg, dstReg = startRegistry(t, registrytest.Options{}), startRegistry(t, registrytest.Options{})
	return srcReg, dstReg, mustRegistry(t, plainEndpoint(srcReg)), mustRegistry(t, plainEndpoint(dstReg))
}

// TestCopyKeepsDigests copies each kind of manifest and checks that the destination holds the
// same bytes (so the same digest), under the tag, with every child of an index.
func TestCopyKeepsDigests(t *testing.T) {
	srcReg, dstReg, src, dst := registries(t)
	in, out := newPusher(t, srcReg, nil), newPusher(t, dstReg, nil)
	base := layers(t, 2, types.DockerLayer)
	ociBase := layers(t, 2, types.OCILayer)

	docker := imageOf(t, false, append(base, layers(t, 2, types.DockerLayer)...)...)
	oci := imageOf(t, true, append(ociBase, layers(t, 1, types.OCILayer)...)...)
	ociAMD := imageOf(t, true, append(ociBase, layers(t, 1, types.OCILayer)...)...)
	ociARM := imageOf(t, true, append(ociBase, layers(t, 1, types.OCILayer)...)...)
	dockerAMD := imageOf(t, false, append(base, layers(t, 1, types.DockerLayer)...)...)
	dockerARM := imageOf(t, false, append(base, layers(t, 1, types.DockerLayer)...)...)

	for _, tc := range []struct {
		name, repo string
		push       func(repo string) string
		// children are the images of an index; images all the images whose blobs move.
		children, images []v1.Image
	}{
		{name: "docker schema 2 image", repo: "ns/docker", push: func(repo string) string { return in.image(repo, "v1", docker) },
			images: []v1.Image{docker}},
		{name: "OCI image", repo: "ns/oci", push: func(repo string) string { return in.image(repo, "v1", oci) },
			images: []v1.Image{oci}},
		{name: "OCI index of 2 platforms", repo: "ns/ociindex", push: func(repo string) string {
			return in.index(repo, "v1", indexOf(t, types.OCIImageIndex, ociAMD, ociARM))
		}, children: []v1.Image{ociAMD, ociARM}, images: []v1.Image{ociAMD, ociARM}},
		{name: "docker manifest list", repo: "ns/list", push: func(repo string) string {
			return in.index(repo, "v1", indexOf(t, types.DockerManifestList, dockerAMD, dockerARM))
		}, children: []v1.Image{dockerAMD, dockerARM}, images: []v1.Image{dockerAMD, dockerARM}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srcRepo := tc.repo
			digest := tc.push(srcRepo)
			dstRepo := "copied/" + strings.TrimPrefix(srcRepo, "ns/")
			var c Copier
			res, err := c.Copy(t.Context(), src, srcRepo, digest, dst, dstRepo, "v1")
			if err != nil {
				t.Fatalf("copy: %v", err)
			}
			want := in.manifest(srcRepo, digest)
			if got := out.manifest(dstRepo, digest); !bytes.Equal(got, want) {
				t.Fatalf("destination manifest by digest:\n%s\nwant:\n%s", got, want)
			}
			if got := out.manifest(dstRepo, "v1"); !bytes.Equal(got, want) {
				t.Errorf("destination tag v1 is not the image")
			}
			for _, child := range tc.children {
				d := digestOf(t, child)
				if got := out.manifest(dstRepo, d); !bytes.Equal(got, in.manifest(srcRepo, d)) {
					t.Errorf("child %s missing or different at the destination", d)
				}
			}
			wantManifests := 1 + len(tc.children)
			if res.ManifestsWritten != wantManifests || res.Images != 1 || res.TagsWritten != 1 {
				t.Errorf("result %+v: want %d manifests, 1 image, 1 tag", res, wantManifests)
			}
			if wantBytes := blobBytes(t, tc.images...); res.BytesCopied != wantBytes || res.BytesSkipped != 0 || res.BlobsMounted != 0 {
				t.Errorf("result %+v: want %d bytes copied, none skipped or mounted", res, wantBytes)
			}
		})
	}
}

// TestCopyAgainMovesNothing: a second copy of the same images finds them at the destination
// and moves no byte, and a tag moved at the source moves at the destination too.
func TestCopyAgainMovesNothing(t *testing.T) {
	srcReg, _, src, dst := registries(t)
	in := newPusher(t, srcReg, nil)
	base := layers(t, 3, types.DockerLayer)
	v1img := imageOf(t, false, append(base, layers(t, 2, types.DockerLayer)...)...)
	v2img := imageOf(t, false, append(base, layers(t, 2, types.DockerLayer)...)...)
	idx := indexOf(t, types.OCIImageIndex, imageOf(t, true, layers(t, 2, types.OCILayer)...), imageOf(t, true, layers(t, 2, types.OCILayer)...))
	images := []Image{
		{Repository: "ns/app", Digest: in.image("ns/app", "v1", v1img), Tags: []string{"v1"}},
		{Repository: "ns/app", Digest: in.image("ns/app", "v2", v2img), Tags: []string{"v2", "latest"}},
		{Repository: "ns/app", Digest: in.index("ns/app", "multi", idx), Tags: []string{"multi"}},
	}
	var c Copier
	first := copyOK(t.Context(), t, &c, src, dst, "ns2/app", images...)
	if first.BytesCopied == 0 || first.ManifestsWritten != 5 || first.TagsWritten != 4 {
		t.Fatalf("first copy %+v: want bytes copied, 5 manifests and 4 tags written", first)
	}
	second := copyOK(t.Context(), t, &Copier{}, src, dst, "ns2/app", images...)
	if second.BytesCopied != 0 || second.BlobsCopied != 0 || second.ManifestsWritten != 0 || second.TagsWritten != 0 {
		t.Errorf("second copy %+v: want nothing copied or written", second)
	}
	if second.Images != 3 || second.ManifestsSkipped != 5 || second.BytesSkipped != first.BytesCopied {
		t.Errorf("second copy %+v: want 3 images, 5 manifests and %d bytes skipped", second, first.BytesCopied)
	}
	// latest moves to v1 at the source: the copy moves it, without data.
	images[0].Tags = append(images[0].Tags, "latest")
	images[1].Tags = images[1].Tags[:1]
	third := copyOK(t.Context(), t, &Copier{}, src, dst, "ns2/app", images...)
	if third.TagsWritten != 1 || third.BytesCopied != 0 {
		t.Errorf("third copy %+v: want 1 tag written and no byte", third)
	}
}

// TestCopyResumes interrupts a copy once some data moved, then copies again: what arrived is
// skipped, the rest copied, and the image complete.
func TestCopyResumes(t *testing.T) {
	srcReg, dstReg, src, dst := registries(t)
	in, out := newPusher(t, srcReg, nil), newPusher(t, dstReg, nil)
	img := imageOf(t, false, layers(t, 6, types.DockerLayer)...)
	digest := in.image("ns/app", "v1", img)
	total := blobBytes(t, img)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := &Copier{Jobs: 1, Progress: func(p Progress) {
		// Once the first layer is there.
		if p.BytesCopied >= 2*layerSize/3 && p.BytesTotal > 0 {
			cancel()
		}
	}}
	res, err := c.Copy(ctx, src, "ns/app", digest, dst, "ns2/app", "v1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted copy: %+v, %v; want cancelled", res, err)
	}
	if out.manifest("ns2/app", digest) != nil {
		t.Fatal("the manifest was written before its blobs")
	}
	again, err := (&Copier{}).Copy(t.Context(), src, "ns/app", digest, dst, "ns2/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if again.BlobsSkipped == 0 || again.BytesCopied >= total || again.BytesCopied+again.BytesSkipped != total {
		t.Errorf("resumed copy %+v: want some of the %d bytes skipped, the rest copied", again, total)
	}
	if !bytes.Equal(out.manifest("ns2/app", "v1"), in.manifest("ns/app", digest)) {
		t.Error("the resumed copy is not the image")
	}
}

// TestCopyMountsSharedLayers copies two images sharing base layers into two repositories of
// the destination: the second mounts the base layers from the first and uploads only its own.
func TestCopyMountsSharedLayers(t *testing.T) {
	srcReg, dstReg, src, dst := registries(t)
	in, out := newPusher(t, srcReg, nil), newPusher(t, dstReg, nil)
	base := layers(t, 3, types.DockerLayer)
	own := layers(t, 2, types.DockerLayer)
	a := imageOf(t, false, append(base, layers(t, 2, types.DockerLayer)...)...)
	b := imageOf(t, false, append(base, own...)...)
	da, db := in.image("ns/a", "v1", a), in.image("ns/b", "v1", b)

	var c Copier
	copyOK(t.Context(), t, &c, src, dst, "ns2/a", Image{Repository: "ns/a", Digest: da, Tags: []string{"v1"}})
	res := copyOK(t.Context(), t, &c, src, dst, "ns2/b", Image{Repository: "ns/b", Digest: db, Tags: []string{"v1"}})
	var baseBytes, ownBytes int64
	for _, l := range base {
		baseBytes += size(t, l)
	}
	for _, l := range own {
		ownBytes += size(t, l)
	}
	m, _ := b.Manifest()
	ownBytes += m.Config.Size
	if res.BlobsMounted != len(base) || res.BytesMounted != baseBytes || res.BytesCopied != ownBytes {
		t.Errorf("second repository %+v: want %d blobs (%d bytes) mounted and %d bytes (own layers, config) copied",
			res, len(base), baseBytes, ownBytes)
	}
	if !bytes.Equal(out.manifest("ns2/b", db), in.manifest("ns/b", db)) {
		t.Error("the mounted image is not the source's")
	}

	// A caller's hint: another Copier, told where the blobs are.
	hints := &Mounts{}
	for _, l := range base {
		d, _ := l.Digest()
		hints.Add(dst.Host(), "ns2/a", d.String())
	}
	res = copyOK(t.Context(), t, &Copier{Mounts: hints}, src, dst, "ns2/c", Image{Repository: "ns/b", Digest: db})
	if res.BlobsMounted != len(base) {
		t.Errorf("copy with seeded mounts %+v: want %d blobs mounted", res, len(base))
	}
	// A wrong hint costs nothing but the attempt.
	wrong := &Mounts{}
	for _, l := range own {
		d, _ := l.Digest()
		wrong.Add(dst.Host(), "ns2/nothing", d.String())
	}
	res = copyOK(t.Context(), t, &Copier{Mounts: wrong}, src, dst, "ns2/d", Image{Repository: "ns/b", Digest: db})
	if res.BlobsMounted != 0 || res.BytesCopied != ownBytes+baseBytes {
		t.Errorf("copy with wrong hints %+v: want everything uploaded", res)
	}
}

func size(t *testing.T, l v1.Layer) int64 {
	t.Helper()
	s, err := l.Size()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCopyImagesTogether copies an image stream's tags in one call: each shared blob moves
// once, every tag resolves, and the progress reaches its totals.
func TestCopyImagesTogether(t *testing.T) {
	srcReg, dstReg, src, dst := registries(t)
	in, out := newPusher(t, srcReg, nil), newPusher(t, dstReg, nil)
	base := layers(t, 3, types.DockerLayer)
	var imgs []v1.Image
	var images []Image
	for _, tag := range []string{"a", "b", "c", "d"} {
		img := imageOf(t, false, append(base, layers(t, 2, types.DockerLayer)...)...)
		imgs = append(imgs, img)
		images = append(images, Image{Repository: "ns/app", Digest: in.image("ns/app", tag, img), Tags: []string{tag}})
	}
	var mu sync.Mutex
	var reports []Progress
	c := &Copier{Jobs: 3, Progress: func(p Progress) {
		mu.Lock()
		reports = append(reports, p)
		mu.Unlock()
	}}
	res := copyOK(t.Context(), t, c, src, dst, "ns2/app", images...)
	if want := 3 + 4*3; res.BlobsCopied != want || res.BytesCopied != blobBytes(t, imgs...) {
		t.Errorf("result %+v: want %d blobs (3 shared, 2 layers and a config per image) and %d bytes", res, want, blobBytes(t, imgs...))
	}
	for _, img := range images {
		if !bytes.Equal(out.manifest("ns2/app", img.Tags[0]), in.manifest("ns/app", img.Digest)) {
			t.Errorf("tag %s is not its image", img.Tags[0])
		}
	}
	last := reports[len(reports)-1]
	if last.ImagesDone != 4 || last.ImagesTotal != 4 || last.BytesDone() != last.BytesTotal || last.BytesTotal != res.BytesCopied {
		t.Errorf("last progress %+v: want 4/4 images and every byte", last)
	}
	for i := 1; i < len(reports); i++ {
		if reports[i].BytesDone() < reports[i-1].BytesDone() && reports[i].BytesTotal == reports[i-1].BytesTotal {
			// Only an abandoned attempt goes back; none here.
			t.Fatalf("progress went back: %+v after %+v", reports[i], reports[i-1])
		}
	}
}

// TestCopyFailures checks what failed copies report against real registries.
func TestCopyFailures(t *testing.T) {
	srcReg, dstReg, src, dst := registries(t)
	in, out := newPusher(t, srcReg, nil), newPusher(t, dstReg, nil)
	good := in.image("ns/app", "v1", imageOf(t, false, layers(t, 2, types.DockerLayer)...))
	unknown := "sha256:" + strings.Repeat("ab", 32)

	// A registry that is not there: a port nothing listens on.
	gone := startRegistry(t, registrytest.Options{})
	gone.Stop()
	unreachable := mustRegistry(t, Endpoint{Host: gone.Host, PlainHTTP: true})
	// A TLS endpoint whose registry speaks plain HTTP: refused, never used over HTTP.
	notTLS := mustRegistry(t, Endpoint{Host: dstReg.Host})

	for _, tc := range []struct {
		name      string
		src, dst  *Registry
		images    []Image
		reason    string
		retryable bool
		mentions  []string
	}{
		{"unknown digest", src, dst, []Image{{Repository: "ns/app", Digest: unknown}}, ReasonManifestUnknown, false,
			[]string{"source registry " + srcReg.Host, "repository ns/app", unknown}},
		{"unknown repository", src, dst, []Image{{Repository: "ns/nothing", Digest: good}}, ReasonManifestUnknown, false,
			[]string{"repository ns/nothing"}},
		{"unreachable source", unreachable, dst, []Image{{Repository: "ns/app", Digest: good}}, ReasonUnreachable, true,
			[]string{"source registry " + gone.Host}},
		{"unreachable destination", src, unreachable, []Image{{Repository: "ns/app", Digest: good}}, ReasonUnreachable, true,
			[]string{"destination registry " + gone.Host}},
		{"destination not speaking TLS", src, notTLS, []Image{{Repository: "ns/app", Digest: good}}, ReasonTLS, false,
			[]string{"destination registry " + dstReg.Host}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (&Copier{}).CopyImages(t.Context(), tc.src, tc.dst, "ns2/failed", tc.images)
			if err == nil {
				t.Fatal("copy succeeded")
			}
			f := Classify(err)
			t.Log(f.Message)
			if f.Reason != tc.reason || f.Retryable != tc.retryable {
				t.Fatalf("classified %+v, want %s (retryable %v); error: %v", f, tc.reason, tc.retryable, err)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(f.Message, m) {
					t.Errorf("message %q does not mention %q", f.Message, m)
				}
			}
		})
	}
	if out.manifest("ns2/failed", good) != nil {
		t.Error("a failed copy wrote the image")
	}

	// One image of three is gone: the other two are copied, the error names the missing one.
	res, err := (&Copier{}).CopyImages(t.Context(), src, dst, "ns2/partial", []Image{
		{Repository: "ns/app", Digest: good, Tags: []string{"v1"}},
		{Repository: "ns/app", Digest: unknown, Tags: []string{"old"}},
	})
	fs := Failures(err)
	if len(fs) != 1 || fs[0].Reason != ReasonManifestUnknown || !strings.Contains(fs[0].Message, unknown) {
		t.Errorf("failures %+v, want the unknown image only", fs)
	}
	if res.Images != 1 || out.manifest("ns2/partial", "v1") == nil {
		t.Errorf("result %+v: want the good image copied", res)
	}
}

// TestCopyRefusedByDestination puts a proxy in front of the destination that refuses blob
// uploads the way registries do, and checks that the refusal stops the copy and is classified.
func TestCopyRefusedByDestination(t *testing.T) {
	srcReg, dstReg, src, _ := registries(t)
	in := newPusher(t, srcReg, nil)
	digest := in.image("ns/app", "v1", imageOf(t, false, layers(t, 2, types.DockerLayer)...))
	target, err := url.Parse(dstReg.URL())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		reason     string
	}{
		{"pushes denied", `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`, http.StatusForbidden, ReasonForbidden},
		{"over quota", `{"errors":[{"code":"DENIED","message":"exceeded quota: limits.storage=1Gi"}]}`, http.StatusForbidden, ReasonQuota},
		{"blob too large", `<html>413 Request Entity Too Large</html>`, http.StatusRequestEntityTooLarge, ReasonQuota},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := httputil.NewSingleHostReverseProxy(target)
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/blobs/uploads/") {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(tc.body))
					return
				}
				proxy.ServeHTTP(w, r)
			}))
			defer server.Close()
			dst := mustRegistry(t, Endpoint{Host: strings.TrimPrefix(server.URL, "http://"), PlainHTTP: true})
			_, err := (&Copier{}).Copy(t.Context(), src, "ns/app", digest, dst, "ns2/app", "v1")
			f := Classify(err)
			t.Log(f.Message)
			if f.Reason != tc.reason || f.Retryable || !strings.Contains(f.Message, "destination registry") || !strings.Contains(f.Message, "ns2/app") {
				t.Errorf("classified %+v, want %s, not retryable, naming the destination repository", f, tc.reason)
			}
			if n := len(Failures(err)); n != 1 {
				t.Errorf("%d failures, want the one that stopped the copy: %v", n, err)
			}
		})
	}
}
