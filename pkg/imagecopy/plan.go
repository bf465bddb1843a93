package imagecopy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// node is one manifest of the copy: an image or an index, by digest, with what it needs at the
// destination first (its blobs, or its child manifests).
type node struct {
	digest string
	// src is the source repository it is read from.
	src       name.Repository
	raw       []byte
	mediaType types.MediaType
	// present: the destination repository holds it already (and so, as manifests are written
	// after what they reference, everything it references).
	present  bool
	blobs    []*blob
	children []*node
	// tags are the destination tags to point at it (guarded by run.mu until planning ends).
	tags []string

	// planned is closed once the fields above are set, or planErr.
	planned chan struct{}
	planErr error
	// done is closed once the manifest and its tags are written, or err.
	done chan struct{}
	err  error
}

// blob is one blob of the copy (a layer or a config), shared by every image that has it.
type blob struct {
	desc v1.Descriptor
	// src is the first source repository of an image that has it.
	src name.Repository
	// present: a manifest at the destination references it.
	present bool
	// done is closed once the blob is at the destination, or err.
	done chan struct{}
	err  error
}

// resolve plans the manifest digest of src: read from the destination when it holds it
// already, from the source otherwise, and its children likewise. Every digest is planned
// once; later callers wait for the first.
func (r *run) resolve(ctx context.Context, src name.Repository, digest string) (*node, error) {
	r.mu.Lock()
	n, seen := r.nodes[digest]
	if !seen {
		n = &node{digest: digest, src: src, planned: make(chan struct{}), done: make(chan struct{})}
		r.nodes[digest] = n
	}
	r.mu.Unlock()
	if seen {
		select {
		case <-n.planned:
			return n, n.planErr
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	n.planErr = r.plan(ctx, n)
	close(n.planned)
	return n, n.planErr
}

// plan reads n's manifest and what it references.
func (r *run) plan(ctx context.Context, n *node) error {
	if err := r.fetch(ctx, n); err != nil {
		return err
	}
	if n.mediaType.IsIndex() {
		return r.planIndex(ctx, n)
	}
	m, err := v1.ParseManifest(bytes.NewReader(n.raw))
	if err != nil {
		return r.srcErr(n, "parse the manifest", err)
	}
	descs := append(append([]v1.Descriptor{}, m.Layers...), m.Config)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range descs {
		if !d.MediaType.IsDistributable() {
			// A foreign layer (Windows base images): it stays where its URLs say.
			continue
		}
		b, ok := r.blobs[d.Digest.String()]
		if !ok {
			b = &blob{desc: d, src: n.src, done: make(chan struct{})}
			r.blobs[d.Digest.String()] = b
		}
		b.present = b.present || n.present
		n.blobs = append(n.blobs, b)
	}
	return nil
}

// fetch reads n's manifest: from the destination if it holds it, else from the source.
func (r *run) fetch(ctx context.Context, n *node) error {
	if err := acquire(ctx, r.requests); err != nil {
		return err
	}
	raw, mt, found, err := r.dstClient.manifest(ctx, n.digest)
	r.requests.release()
	if err != nil {
		return r.dstErr(stageCheck, n.digest, "look for the image", err)
	}
	if !found {
		if err := acquire(ctx, r.requests); err != nil {
			return err
		}
		desc, err := r.puller.Get(ctx, n.src.Digest(n.digest))
		r.requests.release()
		if err != nil {
			return r.srcErr(n, "read the manifest", err)
		}
		// go-containerregistry checks the digest of a manifest read by digest; so does this, as
		// the destination's copy must be byte for byte what was asked for.
		if err := verifyDigest(desc.Manifest, n.digest); err != nil {
			return r.srcErr(n, "read the manifest", err)
		}
		raw, mt = desc.Manifest, desc.MediaType
	}
	n.raw, n.present = raw, found
	n.mediaType, err = manifestType(raw, mt)
	if err != nil {
		return r.srcErr(n, "read the manifest", err)
	}
	return nil
}

// planIndex plans the children of an index, in parallel.
func (r *run) planIndex(ctx context.Context, n *node) error {
	idx, err := v1.ParseIndexManifest(bytes.NewReader(n.raw))
	if err != nil {
		return r.srcErr(n, "parse the index", err)
	}
	children := make([]*node, len(idx.Manifests))
	errs := make([]error, len(idx.Manifests))
	var wg sync.WaitGroup
	for i, d := range idx.Manifests {
		wg.Go(func() { children[i], errs[i] = r.resolve(ctx, n.src, d.Digest.String()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	n.children = children
	return nil
}

// manifestType is the kind of a manifest: the Content-Type the registry gave, or else what the
// manifest says or looks like. Only the image and index formats of Docker and OCI are copied.
func manifestType(raw []byte, header types.MediaType) (types.MediaType, error) {
	mt := header
	if !mt.IsImage() && !mt.IsIndex() && !mt.IsSchema1() {
		var probe struct {
			MediaType types.MediaType `json:"mediaType"`
			Manifests json.RawMessage `json:"manifests"`
			Config    json.RawMessage `json:"config"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return "", fmt.Errorf("%w: not JSON (Content-Type %q): %w", errUnsupported, header, err)
		}
		switch {
		case probe.MediaType != "":
			mt = probe.MediaType
		case probe.Manifests != nil:
			mt = types.OCIImageIndex
		case probe.Config != nil:
			mt = types.OCIManifestSchema1
		}
	}
	switch {
	case mt.IsSchema1():
		return "", fmt.Errorf("%w: %s (Docker schema 1, which registries no longer accept; rebuild or convert the image)", errUnsupported, mt)
	case !mt.IsImage() && !mt.IsIndex():
		return "", fmt.Errorf("%w: media type %q", errUnsupported, mt)
	}
	return mt, nil
}
