package directimagestreammigration

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/imagecopy"
)

// copyAttempts bounds the attempts of a copy that failed for a reason that may pass (a
// registry unreachable for a moment); retryWait is the wait before the second attempt,
// doubled before each next one. Each attempt moves only what is still missing.
const (
	copyAttempts = 3
	retryWait    = 5 * time.Second
)

// registry turns the access into an imagecopy registry, reading the token now (the host's
// rotates).
func (a registryAccess) registry() (*imagecopy.Registry, error) {
	token, err := a.token()
	if err != nil {
		return nil, err
	}
	ep := imagecopy.Endpoint{Host: a.host, Password: token, Insecure: a.insecure, CABundle: a.caBundle}
	if a.proxy != nil {
		proxy, err := a.proxy(&url.URL{Scheme: "https", Host: a.host})
		if err != nil {
			return nil, fmt.Errorf("the httpsProxy of the MigrationController: %w", err)
		}
		ep.Proxy = proxy
	}
	return imagecopy.NewRegistry(ep)
}

// copyWork is the background work of a DISM: copy every image of the plan to the destination
// repository, publishing progress, retrying what may pass.
func (r *Reconciler) copyWork(plan copyPlan, jobs int) copyFunc {
	images := make([]imagecopy.Image, 0, len(plan.images))
	for _, img := range plan.images {
		images = append(images, imagecopy.Image{Repository: img.Repository, Digest: img.Digest, Tags: slices.Clone(img.Tags)})
	}
	return func(ctx context.Context, report func(func(*migv1.ImageCopyProgress))) error {
		src, err := plan.source.registry()
		if err != nil {
			return fmt.Errorf("source registry %s: %w", plan.source.host, err)
		}
		dst, err := plan.destination.registry()
		if err != nil {
			return fmt.Errorf("destination registry %s: %w", plan.destination.host, err)
		}
		copier := &imagecopy.Copier{Jobs: jobs, Mounts: r.mounts, Progress: func(p imagecopy.Progress) {
			report(func(out *migv1.ImageCopyProgress) {
				out.TotalImages, out.CopiedImages = p.ImagesTotal, p.ImagesDone
				out.TotalBytes, out.CopiedBytes, out.SkippedBytes = p.BytesTotal, p.BytesCopied, p.BytesSkipped+p.BytesMounted
				out.MountedBlobs = p.BlobsMounted
			})
		}}
		wait := retryWait
		for attempt := 1; ; attempt++ {
			_, err = copier.CopyImages(ctx, src, dst, plan.destRepository, images)
			if err == nil || attempt == copyAttempts || !imagecopy.Classify(err).Retryable {
				return err
			}
			select {
			case <-ctx.Done():
				return err
			case <-time.After(wait):
			}
			wait *= 2
		}
	}
}

// maxFailureLines bounds the per-image lines of a failure message.
const maxFailureLines = 5

// describeFailure is the reason and message of a failed copy: the reason that explains most,
// and a line per failed image.
func describeFailure(err error) (string, string) {
	best := imagecopy.Classify(err)
	var lines []string
	for _, f := range imagecopy.Failures(err) {
		if !slices.Contains(lines, f.Message) {
			lines = append(lines, f.Message)
		}
	}
	if len(lines) == 0 {
		return imagecopy.ReasonFailed, err.Error()
	}
	if len(lines) > maxFailureLines {
		lines = append(lines[:maxFailureLines], fmt.Sprintf("and %d more", len(lines)-maxFailureLines))
	}
	return best.Reason, strings.Join(lines, "; ")
}
