package imagecopy

import (
	"sync"
	"time"
)

// reportInterval is the least time between two progress calls while data moves.
const reportInterval = 100 * time.Millisecond

// Result is what a copy did.
type Result struct {
	// Images is how many of the requested images the destination holds, complete, after the
	// copy (copied now or before).
	Images int
	// ManifestsWritten is how many manifests (images, indexes and the images of indexes) were
	// written; ManifestsSkipped how many the destination held already. TagsWritten counts tags
	// written or moved.
	ManifestsWritten, ManifestsSkipped, TagsWritten int
	// BlobsCopied and BytesCopied are the blobs (layers and configs) uploaded.
	BlobsCopied int
	BytesCopied int64
	// BlobsSkipped and BytesSkipped are the blobs the destination repository held already.
	BlobsSkipped int
	BytesSkipped int64
	// BlobsMounted and BytesMounted are the blobs mounted from another repository of the
	// destination registry: not uploaded.
	BlobsMounted int
	BytesMounted int64
}

// Progress is how far a copy is, over all its images (they are copied together).
type Progress struct {
	// ImagesTotal is how many images were asked for; ImagesDone how many are complete.
	ImagesTotal, ImagesDone int
	// BytesTotal is the size of the blobs of the images, known once every manifest is read
	// (0 until then).
	BytesTotal int64
	// BytesCopied counts the bytes uploaded so far, blobs in flight included.
	BytesCopied int64
	// BytesSkipped and BytesMounted count the blobs not uploaded: the destination repository
	// held them, or they were mounted from another of its repositories.
	BytesSkipped, BytesMounted int64
	// BlobsMounted counts the blobs mounted.
	BlobsMounted int
}

// BytesDone is the part of BytesTotal that the destination holds.
func (p Progress) BytesDone() int64 { return p.BytesCopied + p.BytesSkipped + p.BytesMounted }

// tally keeps a copy's Result and Progress and calls the progress function: at most every
// reportInterval while data moves, and at once when an image, a blob or the copy ends. Calls
// are serialized, so the function needs no locking of its own; it runs on the copy's
// goroutines and must return quickly.
type tally struct {
	mu       sync.Mutex
	res      Result
	p        Progress
	fn       func(Progress)
	reported time.Time
}

// update changes the figures under the lock, then reports them (always when force).
func (t *tally) update(force bool, f func(*Result, *Progress)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.res, &t.p)
	if t.fn == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(t.reported) < reportInterval {
		return
	}
	t.reported = now
	t.fn(t.p)
}

// moved counts n bytes of a blob in flight (negative when an attempt is abandoned).
func (t *tally) moved(n int64) {
	t.update(false, func(_ *Result, p *Progress) { p.BytesCopied += n })
}

// result returns the Result so far.
func (t *tally) result() Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.res
}
