package directimagestreammigration

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// copies runs image copies in the background, one per DISM, so that no reconcile waits for a
// registry. Jobs are keyed by the DISM's name and remember its UID: a deleted DISM's copy is
// cancelled by name (a reconcile of a deleted object knows no UID), and a DISM recreated
// under the same name gets a new copy. It holds only memory: after an operator restart a DISM that was
// copying starts its copy again, which skips what the destination already holds.
type copies struct {
	mu   sync.Mutex
	jobs map[types.NamespacedName]*copyJob
}

// copyJob is one running or finished copy.
type copyJob struct {
	uid     types.UID
	cancel  context.CancelFunc
	started time.Time
	// Guarded by copies.mu.
	progress migv1.ImageCopyProgress
	done     bool
	err      error
}

// copyState is a snapshot of a copy for a reconcile.
type copyState struct {
	Progress migv1.ImageCopyProgress
	Done     bool
	Err      error
}

// copyFunc does the work of a copy. report publishes progress; it is cheap and may be called
// from several goroutines.
type copyFunc func(ctx context.Context, report func(func(*migv1.ImageCopyProgress))) error

func newCopies() *copies { return &copies{jobs: map[types.NamespacedName]*copyJob{}} }

// start runs work for the DISM key (with uid) unless its copy exists. The copy outlives the
// reconcile that started it: its context is the operator's (base), not the reconcile's.
func (c *copies) start(base context.Context, key types.NamespacedName, uid types.UID, now time.Time, work copyFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.jobs[key]; ok {
		if old.uid == uid {
			return
		}
		old.cancel()
	}
	ctx, cancel := context.WithCancel(base)
	job := &copyJob{uid: uid, cancel: cancel, started: now}
	c.jobs[key] = job
	go func() {
		err := work(ctx, func(update func(*migv1.ImageCopyProgress)) {
			c.mu.Lock()
			update(&job.progress)
			c.mu.Unlock()
		})
		c.mu.Lock()
		job.done, job.err = true, err
		c.mu.Unlock()
	}()
}

// get returns the state of the copy of the DISM key with uid, and false when there is none.
func (c *copies) get(key types.NamespacedName, uid types.UID, now time.Time) (copyState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	job, ok := c.jobs[key]
	if !ok || job.uid != uid {
		return copyState{}, false
	}
	st := copyState{Progress: job.progress, Done: job.done, Err: job.err}
	if secs := now.Sub(job.started).Seconds(); secs >= 1 {
		st.Progress.BytesPerSecond = int64(float64(st.Progress.CopiedBytes) / secs)
	}
	return st, true
}

// forget cancels the DISM key's copy if it still runs and drops it.
func (c *copies) forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if job, ok := c.jobs[key]; ok {
		job.cancel()
		delete(c.jobs, key)
	}
}
