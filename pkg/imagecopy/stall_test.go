package imagecopy

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferrymtc/ferry/pkg/imagecopy/registrytest"
)

// fakeSource is a source registry that serves one image and misbehaves on one blob.
type fakeSource struct {
	manifest  []byte
	mediaType types.MediaType
	blobs     map[string][]byte
	// bad is the blob served wrongly, by serve.
	bad   string
	serve func(w http.ResponseWriter, r *http.Request, content []byte)
}

func (f *fakeSource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v2/":
		w.WriteHeader(http.StatusOK)
	case strings.Contains(r.URL.Path, "/manifests/"):
		w.Header().Set("Content-Type", string(f.mediaType))
		_, _ = w.Write(f.manifest)
	case strings.Contains(r.URL.Path, "/blobs/"):
		digest := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		content, ok := f.blobs[digest]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if digest == f.bad {
			f.serve(w, r, content)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		_, _ = w.Write(content)
	default:
		http.NotFound(w, r)
	}
}

// newFakeSource serves a random image; its first layer is served by bad.
func newFakeSource(t *testing.T, bad func(w http.ResponseWriter, r *http.Request, content []byte)) (*fakeSource, string) {
	t.Helper()
	img := imageOf(t, false, layers(t, 2, types.DockerLayer)...)
	f := &fakeSource{blobs: map[string][]byte{}, serve: bad, mediaType: types.DockerManifestSchema2}
	var err error
	if f.manifest, err = img.RawManifest(); err != nil {
		t.Fatal(err)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	f.blobs[m.Config.Digest.String()] = cfg
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range ls {
		d, _ := l.Digest()
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := rc.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		_ = rc.Close()
		f.blobs[d.String()] = []byte(b.String())
		if i == 0 {
			f.bad = d.String()
		}
	}
	return f, digestOf(t, img)
}

// TestCopyFromMisbehavingSource: a source that stops sending in the middle of a blob fails the
// copy after StallTimeout (not never), and one that serves other content than the digest
// fails it as such; the destination holds no manifest either way.
func TestCopyFromMisbehavingSource(t *testing.T) {
	dstReg := startRegistry(t, registrytest.Options{})
	dst := mustRegistry(t, plainEndpoint(dstReg))
	out := newPusher(t, dstReg, nil)
	for _, tc := range []struct {
		name     string
		serve    func(w http.ResponseWriter, r *http.Request, content []byte)
		reason   string
		mentions string
	}{
		{"stops in the middle of a blob", func(w http.ResponseWriter, r *http.Request, content []byte) {
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			_, _ = w.Write(content[:len(content)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, ReasonUnreachable, "stopped sending or receiving data"},
		{"serves other content", func(w http.ResponseWriter, _ *http.Request, content []byte) {
			other := append([]byte{}, content...)
			other[len(other)/2] ^= 0xff
			w.Header().Set("Content-Length", strconv.Itoa(len(other)))
			_, _ = w.Write(other)
		}, ReasonFailed, "does not match its digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, digest := newFakeSource(t, tc.serve)
			server := httptest.NewServer(fake)
			defer server.Close()
			src := mustRegistry(t, Endpoint{Host: strings.TrimPrefix(server.URL, "http://"), PlainHTTP: true})
			start := time.Now()
			_, err := (&Copier{StallTimeout: 300 * time.Millisecond}).Copy(t.Context(), src, "ns/app", digest, dst, "ns2/app", "v1")
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("the copy took %s", took)
			}
			f := Classify(err)
			t.Log(f.Message)
			if f.Reason != tc.reason || !strings.Contains(f.Message, tc.mentions) || !strings.Contains(f.Message, "source registry") {
				t.Errorf("classified %+v, want %s at the source mentioning %q", f, tc.reason, tc.mentions)
			}
			if out.manifest("ns2/app", digest) != nil {
				t.Error("the manifest was written")
			}
		})
	}
}
