package imagecopy

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// write puts n's manifest in the destination once what it references is there: its blobs, or
// its child manifests. A manifest the destination holds already only gets its tags.
func (r *run) write(ctx context.Context, n *node) error {
	for _, b := range n.blobs {
		<-b.done
		if b.err != nil {
			return withImage(b.err, n.digest)
		}
	}
	for _, c := range n.children {
		<-c.done
		if c.err != nil {
			return c.err
		}
	}
	if n.present {
		return r.retag(ctx, n)
	}
	m := rawManifest{raw: n.raw, mediaType: n.mediaType}
	// Written under each tag (the first stores it), or by digest when it has none.
	refs := []name.Reference{r.dstRepo.Digest(n.digest)}
	if len(n.tags) > 0 {
		refs = refs[:0]
		for _, t := range n.tags {
			refs = append(refs, r.dstRepo.Tag(t))
		}
	}
	for _, ref := range refs {
		if err := r.put(ctx, n, ref, m); err != nil {
			return err
		}
	}
	r.tally.update(true, func(res *Result, _ *Progress) {
		res.ManifestsWritten++
		res.TagsWritten += len(n.tags)
	})
	return nil
}

// retag points n's tags at it where they point elsewhere or nowhere.
func (r *run) retag(ctx context.Context, n *node) error {
	for _, t := range n.tags {
		if err := acquire(ctx, r.requests); err != nil {
			return err
		}
		current, found, err := r.dstClient.tagDigest(ctx, t)
		r.requests.release()
		if err != nil {
			return r.dstErr(stageCheck, n.digest, "read tag "+t, err)
		}
		if found && current == n.digest {
			continue
		}
		if err := r.put(ctx, n, r.dstRepo.Tag(t), rawManifest{raw: n.raw, mediaType: n.mediaType}); err != nil {
			return err
		}
		r.tally.update(true, func(res *Result, _ *Progress) { res.TagsWritten++ })
	}
	return nil
}

// put writes one manifest under ref.
func (r *run) put(ctx context.Context, n *node, ref name.Reference, m rawManifest) error {
	if err := acquire(ctx, r.requests); err != nil {
		return err
	}
	defer r.requests.release()
	if err := r.pusher.Put(ctx, ref, m); err != nil {
		return r.dstErr(stageWriteManifest, n.digest, "write the manifest as "+ref.Identifier(), err)
	}
	return nil
}

// rawManifest is a manifest's exact bytes and type, for go-containerregistry's Put (which
// writes them as they are).
type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }
