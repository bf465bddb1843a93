package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
)

// pullTimeout bounds one pull: manifest and config from the registry, and the first time an
// image is used, its layers, unpacked.
const pullTimeout = 3 * time.Minute

// ImageResolver is where a node's images come from: it stands for a registry (or several)
// that the kubelet would pull from. The node takes from an image its digest, its config's
// entrypoint, command and user, and its layers: an image with files runs from its own root
// file system, one without (or labelled HostCommandLabel) runs host commands.
type ImageResolver interface {
	// Resolve looks image up (a reference such as host:port/ns/name:tag or ...@sha256:...).
	// known is false when image's registry is not one the resolver serves: the node then
	// treats the image as before (Options.Entrypoints, Options.ImageUsers). With known true,
	// a non-nil error is the pull's failure (the container waits in ErrImagePull and
	// ImagePullBackOff, with the error as message, and the node retries).
	Resolve(ctx context.Context, image string) (img ResolvedImage, known bool, err error)
}

// ResolvedImage is what a pull tells the node about an image.
type ResolvedImage struct {
	// ID is the digest reference the image resolved to (repository@sha256:..., the digest of
	// the manifest or index the reference names): the container status's imageID.
	ID string
	// Entrypoint and Cmd are the image config's: a container without a command runs
	// Entrypoint followed by its args, or by Cmd when it has no args, as a runtime does.
	Entrypoint, Cmd []string
	// User is the config's USER when it is numeric ("1001" or "1001:0"), nil otherwise
	// (root, or a name the node cannot look up).
	User *int64
	// Image is the pulled image, whose layers the node fetches and unpacks when it first
	// runs it (see rootfs.go); nil for an image known by its config alone, which runs host
	// commands. Its reads must work while Resolve's context lives.
	Image v1.Image

	// rootfs is where the node unpacked Image ("" for host commands).
	rootfs string
}

// ImageUser parses an image config's USER ("1001", "1001:0") into a user ID; nil for root's
// empty USER or a user name.
func ImageUser(user string) *int64 {
	uid, _, _ := strings.Cut(user, ":")
	n, err := strconv.ParseInt(uid, 10, 64)
	if err != nil || n < 0 {
		return nil
	}
	return &n
}

// imageCache keeps what the node has pulled, by image reference, as the node's image store
// does: pull policy IfNotPresent (and Never) reuse it, Always resolves again.
type imageCache struct {
	mu     sync.Mutex
	images map[string]ResolvedImage
}

func (c *imageCache) get(image string) (ResolvedImage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	img, ok := c.images[image]
	return img, ok
}

func (c *imageCache) put(image string, img ResolvedImage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.images == nil {
		c.images = map[string]ResolvedImage{}
	}
	c.images[image] = img
}

// pull resolves c's image before a run, as the kubelet pulls before it creates a container.
// It reports whether the container may start; when not, c waits in ErrImagePull until its
// retry time, then shows ImagePullBackOff (see startDue).
func (w *podWorker) pull(c *ctrState) bool {
	res := w.n.images
	if res == nil {
		return true
	}
	image := c.spec.Image
	if img, ok := w.n.pulled.get(image); ok && c.spec.ImagePullPolicy != corev1.PullAlways {
		w.mu.Lock()
		c.image = &img
		w.mu.Unlock()
		return true
	}
	ctx, cancel := context.WithTimeout(w.n.ctx, pullTimeout)
	defer cancel()
	img, known, err := res.Resolve(ctx, image)
	if !known {
		w.mu.Lock()
		c.image = nil
		w.mu.Unlock()
		return true
	}
	if err == nil {
		// Within the pull's context, which the image's layer reads use.
		img.rootfs, err = w.n.rootfs.rootfs(img.Image)
	}
	if err != nil {
		now := time.Now()
		w.mu.Lock()
		delay := backoff(c.pullFailures)
		c.pullFailures++
		c.pullErr = err.Error()
		c.waitReason, c.waitMsg = "ErrImagePull", c.pullErr
		c.retryAt = now.Add(delay)
		c.backOffAt = now.Add(delay / 2)
		w.mu.Unlock()
		w.n.logf("process node %s: pod %s: container %s: pull %s: %v", w.n.name, w.key, c.name, image, err)
		return false
	}
	w.n.pulled.put(image, img)
	w.mu.Lock()
	c.image = &img
	c.pullFailures, c.pullErr, c.backOffAt = 0, "", time.Time{}
	w.mu.Unlock()
	return true
}

// pullBackOff turns a container's ErrImagePull into ImagePullBackOff once backOffAt has come
// (w.mu held), and returns when that is due if it has not.
func (c *ctrState) pullBackOff(now time.Time) time.Time {
	if c.backOffAt.IsZero() || c.waitReason != "ErrImagePull" {
		return time.Time{}
	}
	if now.Before(c.backOffAt) {
		return c.backOffAt
	}
	c.waitReason = "ImagePullBackOff"
	c.waitMsg = fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", c.spec.Image, c.pullErr)
	c.backOffAt = time.Time{}
	return time.Time{}
}
