package directimagemigration

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// dismCompleted is a DISM's final phase.
const dismCompleted = "Completed"

// waitForImageStreamMigrations follows the DISMs: a completed one moves its stream to
// successfulISs, or failedISs with its errors; a deleted one to failedISs. Progress is summed
// over all streams. Once none runs, any failure fails the DIM.
func waitForImageStreamMigrations(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	dim := s.DIM
	var running []*migv1.ImageStreamListItem
	for _, item := range dim.Status.NewISs {
		dism := &migv1.DirectImageStreamMigration{}
		key := types.NamespacedName{Namespace: item.DirectMigration.Namespace, Name: item.DirectMigration.Name}
		err := s.r.HostDirect.Get(ctx, key, dism)
		switch {
		case apierrors.IsNotFound(err):
			item.Errors = []string{fmt.Sprintf("DirectImageStreamMigration %s was deleted before it completed.", key)}
			dim.Status.FailedISs = append(dim.Status.FailedISs, item)
			continue
		case err != nil:
			return itinerary.Outcome{}, fmt.Errorf("get DirectImageStreamMigration %s: %w", key, err)
		}
		item.Progress = dism.Status.Progress
		switch {
		case dism.Status.Phase != dismCompleted:
			running = append(running, item)
		case conditions.Find(dism.Status.Conditions, migv1.Failed) != nil || len(dism.Status.Errors) > 0:
			item.Errors = dism.Status.Errors
			dim.Status.FailedISs = append(dim.Status.FailedISs, item)
		default:
			dim.Status.SuccessfulISs = append(dim.Status.SuccessfulISs, item)
		}
	}
	dim.Status.NewISs = running
	dim.Status.Progress = sumProgress(dim.Status)
	if len(running) > 0 {
		return itinerary.Wait(pollStreams), nil
	}
	if len(dim.Status.FailedISs) > 0 {
		return itinerary.Failed("ImageStreamMigrationFailed", failureMessage(dim.Status.FailedISs)), nil
	}
	return itinerary.Done(), nil
}

// sumProgress adds up the progress of every stream, and the rates of those still copying.
func sumProgress(st migv1.DirectImageMigrationStatus) *migv1.ImageCopyProgress {
	total := &migv1.ImageCopyProgress{}
	for i, list := range [][]*migv1.ImageStreamListItem{st.NewISs, st.SuccessfulISs, st.FailedISs} {
		for _, item := range list {
			p := item.Progress
			if p == nil {
				continue
			}
			total.TotalImages += p.TotalImages
			total.CopiedImages += p.CopiedImages
			total.TotalBytes += p.TotalBytes
			total.CopiedBytes += p.CopiedBytes
			total.SkippedBytes += p.SkippedBytes
			total.MountedBlobs += p.MountedBlobs
			if i == 0 { // Only running copies have a current rate.
				total.BytesPerSecond += p.BytesPerSecond
			}
		}
	}
	return total
}

// failureMessage names the streams that failed and why.
func failureMessage(failed []*migv1.ImageStreamListItem) string {
	parts := make([]string, 0, len(failed))
	for _, item := range failed {
		parts = append(parts, fmt.Sprintf("%s/%s: %s", item.Namespace, item.Name, strings.Join(item.Errors, "; ")))
	}
	return fmt.Sprintf("%d ImageStream(s) failed to migrate: %s", len(failed), strings.Join(parts, " | "))
}
