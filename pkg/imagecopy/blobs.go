package imagecopy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// outcome is what became of a blob.
type outcome int

const (
	copied outcome = iota
	skipped
	mounted
)

// copyBlob puts b in the destination repository: skipped when the repository holds it,
// mounted from another repository of the registry when Mounts knows one, uploaded from the
// source otherwise. go-containerregistry's upload does the protocol (HEAD, then POST with
// mount and from, then PATCH and PUT); whether it read the source tells an upload from a skip
// or a mount.
func (r *run) copyBlob(ctx context.Context, b *blob) error {
	digest := b.desc.Digest.String()
	from, hinted := r.mounts.Lookup(r.dst.host, digest, r.dstRepo.RepositoryStr())
	if !hinted && r.src.host == r.dst.host && b.src.RepositoryStr() != r.dstRepo.RepositoryStr() {
		// A copy within one registry: the source repository holds every blob.
		from, hinted = b.src.RepositoryStr(), true
	}
	if hinted {
		// A mount answers 201 whether or not the repository held the blob before: ask first, so
		// that a skip is counted as one.
		exists, err := r.dstClient.blobExists(ctx, digest)
		if err != nil {
			return r.dstErr(stageBlob, "", "check blob "+digest, err)
		}
		if exists {
			r.blobDone(b, skipped)
			return nil
		}
	}
	sb := &sourceBlob{r: r, desc: b.desc, ref: b.src.Digest(digest)}
	var layer v1.Layer = sb
	if hinted {
		if repo, err := r.dst.repository(from); err == nil {
			layer = &remote.MountableLayer{Layer: sb, Reference: repo.Digest(digest)}
		}
	}
	blobCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sb.ctx, sb.cancel = blobCtx, cancel
	err := r.pusher.Upload(blobCtx, r.dstRepo, layer)
	st := sb.finish()
	if err != nil {
		r.tally.moved(-st.read)
		atSource := st.readErr != nil
		if st.readErr != nil {
			err = st.readErr
		}
		if errors.Is(context.Cause(blobCtx), errStalled) {
			// What failed then is only the cancellation.
			atSource = st.stalledAtSource
			err = fmt.Errorf("%w: %s without a byte", errStalled, r.stall)
		}
		if atSource {
			return r.blobSrcErr(b, err)
		}
		return r.dstErr(stageBlob, "", "copy blob "+digest, err)
	}
	switch {
	case st.opened:
		r.tally.moved(b.desc.Size - st.read)
		r.blobDone(b, copied)
	case hinted:
		r.blobDone(b, mounted)
	default:
		r.blobDone(b, skipped)
	}
	return nil
}

// blobDone counts b and remembers that the destination repository holds it.
func (r *run) blobDone(b *blob, o outcome) {
	r.mounts.Add(r.dst.host, r.dstRepo.RepositoryStr(), b.desc.Digest.String())
	size := b.desc.Size
	r.tally.update(true, func(res *Result, p *Progress) {
		switch o {
		case copied:
			res.BlobsCopied++
			res.BytesCopied += size
		case skipped:
			res.BlobsSkipped++
			res.BytesSkipped += size
			p.BytesSkipped += size
		case mounted:
			res.BlobsMounted++
			res.BytesMounted += size
			p.BlobsMounted++
			p.BytesMounted += size
		}
	})
}

// sourceBlob is a blob of the source as a v1.Layer for go-containerregistry's upload: its
// digest, size and media type come from the manifest (no request), its content from the
// source registry, counted as it flows and watched for stalls. Content is verified by
// go-containerregistry's reader (digest) and here (size).
type sourceBlob struct {
	r    *run
	desc v1.Descriptor
	ref  name.Digest
	// ctx is the blob's context, cancelled with errStalled when no byte moves for r.stall.
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	opened bool
	// read counts the bytes of the current attempt (an upload retried reads again).
	read    int64
	readErr error
	stall   *time.Timer
	// inRead is set while a read from the source is under way: a stall then is the source's
	// (otherwise the destination is not taking the data).
	inRead          atomic.Bool
	stalledAtSource bool
}

var _ v1.Layer = (*sourceBlob)(nil)

func (s *sourceBlob) Digest() (v1.Hash, error)            { return s.desc.Digest, nil }
func (s *sourceBlob) Size() (int64, error)                { return s.desc.Size, nil }
func (s *sourceBlob) MediaType() (types.MediaType, error) { return s.desc.MediaType, nil }
func (s *sourceBlob) DiffID() (v1.Hash, error) {
	return v1.Hash{}, errors.New("a copied blob has no diff ID")
}
func (s *sourceBlob) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("a copied blob is never decompressed")
}

// Compressed opens the blob at the source.
func (s *sourceBlob) Compressed() (io.ReadCloser, error) {
	l, err := s.r.puller.Layer(s.ctx, s.ref)
	if err != nil {
		return nil, s.failed(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, s.failed(err)
	}
	s.mu.Lock()
	s.opened = true
	previous := s.read
	s.read = 0
	if s.stall != nil {
		s.stall.Stop()
	}
	s.stall = time.AfterFunc(s.r.stall, func() {
		s.mu.Lock()
		s.stalledAtSource = s.inRead.Load()
		s.mu.Unlock()
		s.cancel(errStalled)
	})
	s.mu.Unlock()
	s.r.tally.moved(-previous)
	return &blobReader{rc: rc, s: s}, nil
}

// failed records err as the source's.
func (s *sourceBlob) failed(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readErr == nil {
		s.readErr = err
	}
	return err
}

// blobState is what became of a sourceBlob's reads.
type blobState struct {
	// opened: the content was read (so uploaded, not skipped or mounted).
	opened bool
	// read counts the bytes of the last attempt.
	read int64
	// readErr is the source's failure.
	readErr error
	// stalledAtSource: a stall was the source's.
	stalledAtSource bool
}

// finish stops the stall timer and says what became of the reads.
func (s *sourceBlob) finish() blobState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall != nil {
		s.stall.Stop()
	}
	return blobState{opened: s.opened, read: s.read, readErr: s.readErr, stalledAtSource: s.stalledAtSource}
}

// blobReader counts what flows from the source and re-arms the stall timer.
type blobReader struct {
	rc io.ReadCloser
	s  *sourceBlob
	n  int64
}

func (b *blobReader) Read(p []byte) (int, error) {
	s := b.s
	s.inRead.Store(true)
	n, err := b.rc.Read(p)
	s.inRead.Store(false)
	if n > 0 {
		b.n += int64(n)
		s.mu.Lock()
		s.read += int64(n)
		s.stall.Reset(s.r.stall)
		s.mu.Unlock()
		s.r.tally.moved(int64(n))
	}
	switch {
	case errors.Is(err, io.EOF) && b.n != s.desc.Size:
		err = s.failed(fmt.Errorf("%w: blob %s has %d bytes, its manifest says %d", errDigestMismatch, s.desc.Digest, b.n, s.desc.Size))
	case errors.Is(err, io.EOF):
		s.mu.Lock()
		s.stall.Stop()
		s.mu.Unlock()
	case err != nil && strings.HasPrefix(err.Error(), "error verifying"):
		// go-containerregistry's digest check (its error type is internal).
		err = s.failed(fmt.Errorf("%w: %w", errDigestMismatch, err))
	case err != nil:
		err = s.failed(err)
	}
	return n, err
}

func (b *blobReader) Close() error { return b.rc.Close() }

// blobSrcErr is the source's failure to serve b.
func (r *run) blobSrcErr(b *blob, err error) error {
	return &Error{Side: Source, Registry: r.src.host, Repository: b.src.RepositoryStr(), Op: "read blob " + b.desc.Digest.String(), Err: err, stage: stageBlob}
}
