package imagecopy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Defaults of a Copier.
const (
	DefaultJobs         = 4
	DefaultStallTimeout = 2 * time.Minute
)

// Image is one image to copy: a manifest (an image or an index of images) by digest.
type Image struct {
	// Repository is the source repository that holds it, without the registry ("ns/app").
	Repository string
	// Digest is the manifest's digest ("sha256:...").
	Digest string
	// Tags are the tags of the destination repository to point at it; with none, the image is
	// copied by digest only.
	Tags []string
}

// Copier copies images from one registry to another, exactly: the manifests' bytes, so their
// digests, are the source's. A Copier may be used by several copies at once; it must not be
// copied after first use.
type Copier struct {
	// Jobs is how many blobs move at once, over all the images of a copy (DefaultJobs when 0).
	// Reads of manifests are bounded by it too.
	Jobs int
	// Mounts tells which repositories of the destination registry hold which blobs, so that
	// they are mounted rather than uploaded; the Copier adds what it copies. Nil: the Copier
	// keeps its own, shared by its copies.
	Mounts *Mounts
	// Progress, when set, is called as a copy moves (see Progress): at most every 100 ms while
	// data flows and whenever an image or a blob completes, one call at a time, on the copy's
	// goroutines; it must return quickly.
	Progress func(Progress)
	// StallTimeout cancels a blob whose data stopped flowing that long (DefaultStallTimeout
	// when 0): a registry that stops answering in the middle of a blob fails the copy rather
	// than hanging it.
	StallTimeout time.Duration

	once sync.Once
	own  *Mounts
}

// Copy copies the image digest of srcRepo at src to dstRepo at dst, and points tag at it when
// tag is not empty. See CopyImages.
func (c *Copier) Copy(ctx context.Context, src *Registry, srcRepo, digest string, dst *Registry, dstRepo, tag string) (Result, error) {
	img := Image{Repository: srcRepo, Digest: digest}
	if tag != "" {
		img.Tags = []string{tag}
	}
	return c.CopyImages(ctx, src, dst, dstRepo, []Image{img})
}

// CopyImages copies images from src to the repository dstRepo of dst, all together: every
// manifest is read first (from the destination when it holds it already: nothing more to do
// for that image), then the blobs of all images move Jobs at a time, each blob once however
// many images share it, and each manifest is written as soon as what it references is there
// (an index after its images), under its tags.
//
// Images that fail do not stop the others, unless the failure dooms them all (a registry
// unreachable or untrusted, credentials refused, a quota, a destination that denies pushes):
// then the copy stops. The error joins one *Error per failed image (see Classify and
// Failures). A copy run again after a failure or an interruption only moves what is missing.
func (c *Copier) CopyImages(ctx context.Context, src, dst *Registry, dstRepo string, images []Image) (Result, error) {
	if len(images) == 0 {
		return Result{}, nil
	}
	r, err := c.start(ctx, src, dst, dstRepo, len(images))
	if err != nil {
		return Result{}, err
	}
	return r.copy(ctx, images)
}

func (c *Copier) mounts() *Mounts {
	c.once.Do(func() { c.own = &Mounts{} })
	if c.Mounts != nil {
		return c.Mounts
	}
	return c.own
}

// run is one CopyImages call.
type run struct {
	src, dst *Registry
	dstRepo  name.Repository
	// puller reads the source, pusher writes the destination, dstClient reads it.
	puller    *remote.Puller
	pusher    *remote.Pusher
	dstClient *repoClient
	mounts    *Mounts
	stall     time.Duration
	jobs      int
	// requests bounds the manifest reads.
	requests semaphore
	tally    *tally
	// cancel stops the copy when a failure dooms every image.
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	nodes map[string]*node
	blobs map[string]*blob
}

// start checks that both registries answer and opens the destination repository.
func (c *Copier) start(ctx context.Context, src, dst *Registry, dstRepo string, images int) (*run, error) {
	jobs := c.Jobs
	if jobs <= 0 {
		jobs = DefaultJobs
	}
	stall := c.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	repo, err := dst.repository(dstRepo)
	if err != nil {
		return nil, &Error{Side: Destination, Registry: dst.host, Repository: dstRepo, Op: "name the repository", Err: err}
	}
	if err := pingBoth(ctx, src, dst); err != nil {
		return nil, err
	}
	r := &run{src: src, dst: dst, dstRepo: repo, mounts: c.mounts(), stall: stall, jobs: jobs,
		requests: make(semaphore, jobs), tally: &tally{fn: c.Progress},
		nodes: map[string]*node{}, blobs: map[string]*blob{}}
	r.tally.p.ImagesTotal = images
	if r.puller, err = remote.NewPuller(remote.WithTransport(src.guarded), remote.WithAuth(src.auth), remote.WithJobs(jobs)); err != nil {
		return nil, fmt.Errorf("source registry %s: %w", src.host, err)
	}
	if r.pusher, err = remote.NewPusher(remote.WithTransport(dst.guarded), remote.WithAuth(dst.auth), remote.WithJobs(jobs)); err != nil {
		return nil, fmt.Errorf("destination registry %s: %w", dst.host, err)
	}
	if r.dstClient, err = newRepoClient(ctx, dst, repo, []string{repo.Scope(transport.PushScope)}); err != nil {
		return nil, r.dstErr(stagePing, "", "authenticate", err)
	}
	return r, nil
}

// pingBoth checks that both registries answer, at the same time.
func pingBoth(ctx context.Context, src, dst *Registry) error {
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, reg := range []*Registry{src, dst} {
		side := []Side{Source, Destination}[i]
		if i == 1 && dst == src {
			break
		}
		wg.Go(func() {
			if err := reg.ping(ctx); err != nil {
				errs[i] = &Error{Side: side, Registry: reg.host, Op: "reach the registry", Err: err, stage: stagePing}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// copy plans the images, then moves their blobs and writes their manifests.
func (r *run) copy(ctx context.Context, images []Image) (Result, error) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.cancel = cancel

	tops, errs := r.planAll(runCtx, images)
	nodes, present, pending := order(tops)
	r.tally.update(true, func(res *Result, p *Progress) {
		for _, b := range slices.Concat(present, pending) {
			p.BytesTotal += b.desc.Size
		}
		for _, b := range present {
			res.BlobsSkipped++
			res.BytesSkipped += b.desc.Size
			p.BytesSkipped += b.desc.Size
		}
		for _, n := range nodes {
			if n.present {
				res.ManifestsSkipped++
			}
		}
	})
	for _, b := range present {
		r.mounts.Add(r.dst.host, r.dstRepo.RepositoryStr(), b.desc.Digest.String())
		close(b.done)
	}

	var wg sync.WaitGroup
	wg.Go(func() { r.copyBlobs(runCtx, pending) })
	topCount := map[*node]int{}
	for _, n := range tops {
		if n != nil {
			topCount[n]++
		}
	}
	for _, n := range nodes {
		wg.Go(func() {
			n.err = r.write(runCtx, n)
			if n.err != nil {
				r.fail(n.err)
			}
			close(n.done)
			if n.err == nil && topCount[n] > 0 {
				r.tally.update(true, func(res *Result, p *Progress) {
					res.Images += topCount[n]
					p.ImagesDone += topCount[n]
				})
			}
		})
	}
	wg.Wait()

	for i, n := range tops {
		if errs[i] == nil && n != nil {
			errs[i] = n.err
		}
	}
	r.tally.update(true, func(*Result, *Progress) {})
	return r.tally.result(), r.outcome(ctx, runCtx, errs)
}

// planAll plans every image at once; tops[i] is images[i]'s node, or errs[i] why not.
func (r *run) planAll(ctx context.Context, images []Image) ([]*node, []error) {
	tops := make([]*node, len(images))
	errs := make([]error, len(images))
	var wg sync.WaitGroup
	for i, img := range images {
		wg.Go(func() {
			n, err := r.planImage(ctx, img)
			if err != nil {
				errs[i] = withImage(err, img.Digest)
				r.fail(err)
				return
			}
			tops[i] = n
		})
	}
	wg.Wait()
	return tops, errs
}

// planImage checks an Image's names and plans it.
func (r *run) planImage(ctx context.Context, img Image) (*node, error) {
	src, err := r.src.repository(img.Repository)
	if err != nil {
		return nil, &Error{Side: Source, Registry: r.src.host, Repository: img.Repository, Op: "name the image", Err: err, stage: stageReadManifest}
	}
	if _, err := v1.NewHash(img.Digest); err != nil {
		return nil, &Error{Side: Source, Registry: r.src.host, Repository: img.Repository, Op: "name the image", Err: err, stage: stageReadManifest}
	}
	for _, t := range img.Tags {
		if _, err := name.NewTag(r.dstRepo.Name()+":"+t, name.StrictValidation); err != nil {
			return nil, r.dstErr(stageWriteManifest, "", "name tag "+t, err)
		}
	}
	n, err := r.resolve(ctx, src, img.Digest)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	for _, t := range img.Tags {
		if !slices.Contains(n.tags, t) {
			n.tags = append(n.tags, t)
		}
	}
	r.mu.Unlock()
	return n, nil
}

// order lists the nodes of the planned images with children before their parents, the blobs
// the destination holds already, and the blobs to copy in the order the images need them
// (shared ones with the first image that has them).
func order(tops []*node) (nodes []*node, present, pending []*blob) {
	seen := map[*node]bool{}
	listed := map[*blob]bool{}
	var visit func(n *node)
	visit = func(n *node) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, c := range n.children {
			visit(c)
		}
		for _, b := range n.blobs {
			switch {
			case listed[b]:
			case b.present:
				present = append(present, b)
			default:
				pending = append(pending, b)
			}
			listed[b] = true
		}
		nodes = append(nodes, n)
	}
	for _, n := range tops {
		if n != nil {
			visit(n)
		}
	}
	return nodes, present, pending
}

// copyBlobs copies the pending blobs, Jobs at a time, in order.
func (r *run) copyBlobs(ctx context.Context, pending []*blob) {
	slots := make(semaphore, r.jobs)
	var wg sync.WaitGroup
	for _, b := range pending {
		if err := acquire(ctx, slots); err != nil {
			b.err = err
			close(b.done)
			continue
		}
		wg.Go(func() {
			defer slots.release()
			b.err = r.copyBlob(ctx, b)
			if b.err != nil {
				r.fail(b.err)
			}
			close(b.done)
		})
	}
	wg.Wait()
}

// fail stops the copy when err dooms every image.
func (r *run) fail(err error) {
	if fatal(err) {
		r.cancel(err)
	}
}

// fatal says whether err fails every image of the copy, not only its own.
func fatal(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	reason, _, _ := kind(err, e)
	switch reason {
	case ReasonUnreachable, ReasonTLS, ReasonAuthentication, ReasonQuota:
		return true
	case ReasonForbidden:
		return e.Side == Destination
	}
	return false
}

// outcome is the error of a copy: the failure that stopped it, if any, and each image's own.
func (r *run) outcome(ctx, runCtx context.Context, errs []error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("image copy cancelled: %w", context.Cause(ctx))
	}
	var out []error
	stop := context.Cause(runCtx)
	if runCtx.Err() != nil && stop != nil {
		out = append(out, stop)
	}
	for _, err := range errs {
		if err == nil {
			continue
		}
		// Once a failure stops the copy, the images it doomed say the same, or that they
		// were cancelled.
		if stop != nil && (fatal(err) || errors.Is(err, context.Canceled) || errors.Is(err, stop)) {
			continue
		}
		out = append(out, err)
	}
	return errors.Join(out...)
}

func (r *run) dstErr(st stage, image, op string, err error) error {
	return &Error{Side: Destination, Registry: r.dst.host, Repository: r.dstRepo.RepositoryStr(), Image: image, Op: op, Err: err, stage: st}
}

// srcErr is a failure to read n's manifest at the source.
func (r *run) srcErr(n *node, op string, err error) error {
	return &Error{Side: Source, Registry: r.src.host, Repository: n.src.RepositoryStr(), Image: n.digest, Op: op, Err: err, stage: stageReadManifest}
}

// semaphore bounds concurrent work.
type semaphore chan struct{}

func acquire(ctx context.Context, s semaphore) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s semaphore) release() { <-s }
