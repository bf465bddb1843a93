package imagecopy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxManifestSize bounds a manifest read into memory. Real ones are a few KiB; an index of
// many platforms some tens.
const maxManifestSize = 16 << 20

// acceptManifests are the manifest types asked for: the two image and two index formats, so
// that no registry converts a manifest (which would change its digest), and schema 1 so that
// such an image is named for what it is rather than missing.
var acceptManifests = strings.Join([]string{
	string(types.DockerManifestSchema2), string(types.DockerManifestList),
	string(types.OCIManifestSchema1), string(types.OCIImageIndex),
	string(types.DockerManifestSchema1), string(types.DockerManifestSchema1Signed),
}, ",")

// repoClient makes the destination reads go-containerregistry has no call for (a manifest by
// digest that may be missing, a blob's existence), through one authenticated transport for
// the repository.
type repoClient struct {
	repo   name.Repository
	scheme string
	client *http.Client
}

// newRepoClient authenticates to repo with scopes (go-containerregistry's handshake: the
// registry's challenge, then a token or basic credentials).
func newRepoClient(ctx context.Context, reg *Registry, repo name.Repository, scopes []string) (*repoClient, error) {
	rt, err := transport.NewWithContext(ctx, repo.Registry, reg.auth, transport.NewRetry(reg.guarded), scopes)
	if err != nil {
		return nil, err
	}
	scheme := "https"
	if reg.plainHTTP {
		scheme = "http"
	}
	return &repoClient{repo: repo, scheme: scheme, client: &http.Client{Transport: rt}}, nil
}

func (c *repoClient) url(kind, ref string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s/%s", c.scheme, c.repo.RegistryStr(), c.repo.RepositoryStr(), kind, ref)
}

func (c *repoClient) do(ctx context.Context, method, url string, accept bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	if accept {
		req.Header.Set("Accept", acceptManifests)
	}
	return c.client.Do(req)
}

// manifest reads the manifest digest, verified; found is false when the repository does not
// hold it.
func (c *repoClient) manifest(ctx context.Context, digest string) (raw []byte, mediaType types.MediaType, found bool, err error) {
	resp, err := c.do(ctx, http.MethodGet, c.url("manifests", digest), true)
	if err != nil {
		return nil, "", false, err
	}
	defer func() { _ = resp.Body.Close() }()
	if missing(resp) {
		return nil, "", false, nil
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, "", false, err
	}
	raw, err = io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, "", false, err
	}
	if len(raw) > maxManifestSize {
		return nil, "", false, fmt.Errorf("manifest %s is larger than %d bytes", digest, maxManifestSize)
	}
	if err := verifyDigest(raw, digest); err != nil {
		return nil, "", false, err
	}
	return raw, types.MediaType(resp.Header.Get("Content-Type")), true, nil
}

// tagDigest returns the digest tag points at; found is false when there is no such tag.
func (c *repoClient) tagDigest(ctx context.Context, tag string) (string, bool, error) {
	resp, err := c.do(ctx, http.MethodHead, c.url("manifests", tag), true)
	if err != nil {
		return "", false, err
	}
	defer func() { _ = resp.Body.Close() }()
	if missing(resp) {
		return "", false, nil
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return "", false, err
	}
	return resp.Header.Get("Docker-Content-Digest"), true, nil
}

// blobExists says whether the repository holds the blob.
func (c *repoClient) blobExists(ctx context.Context, digest string) (bool, error) {
	resp, err := c.do(ctx, http.MethodHead, c.url("blobs", digest), false)
	if err != nil {
		return false, err
	}
	defer func() { _ = resp.Body.Close() }()
	if missing(resp) {
		return false, nil
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return false, err
	}
	return true, nil
}

// missing is an answer that the repository does not hold what was asked for. Some registries
// answer 403 rather than 404 for what a repository lacks (go-containerregistry's existence
// check takes it so too): a real refusal shows again, and is reported, when writing.
func missing(resp *http.Response) bool {
	return resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden
}

// verifyDigest checks that raw hashes to digest (sha256, the only algorithm registries use
// for manifests).
func verifyDigest(raw []byte, digest string) error {
	want, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return fmt.Errorf("%w: %q is not a sha256 digest", errUnsupported, digest)
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("%w: read sha256:%s, asked for %s", errDigestMismatch, got, digest)
	}
	return nil
}
