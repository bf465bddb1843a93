package directimagestreammigration

import (
	"context"
	"fmt"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/imagestream"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// copyPlan is what one DISM copies: the source ImageStream's images stored in the source's
// internal registry, from the source registry's repositories to one repository of the
// destination registry.
type copyPlan struct {
	source, destination registryAccess
	// images are the images to copy, oldest first.
	images []imagestream.LocalImage
	// destRepository is "<destination namespace>/<image stream name>".
	destRepository string
}

// plan computes the copy from the source ImageStream's status.
func (s *Scope) plan() (copyPlan, error) {
	st, err := imagestream.StatusOf(s.ImageStream)
	if err != nil {
		return copyPlan{}, err
	}
	src, err := accessFor(s.Source, s.Settings)
	if err != nil {
		return copyPlan{}, fmt.Errorf("source registry: %w", err)
	}
	dst, err := accessFor(s.Destination, s.Settings)
	if err != nil {
		return copyPlan{}, fmt.Errorf("destination registry: %w", err)
	}
	return copyPlan{
		source: src, destination: dst,
		images:         imagestream.LocalImages(st, imagestream.RegistryHost(st.DockerImageRepository)),
		destRepository: destNamespace(s.DISM) + "/" + s.ImageStream.GetName(),
	}, nil
}

// migrateImageStream starts the copy in the background, then reports its progress until it
// ends. A copy that is not found running (first call, or the operator restarted) is started
// (again): the destination's blobs and manifests are skipped, so it resumes.
func migrateImageStream(_ context.Context, s *Scope) (itinerary.Outcome, error) {
	copies := s.r.copies
	st, ok := copies.get(s.key(), s.DISM.UID, s.Now())
	if !ok {
		plan, err := s.plan()
		if err != nil {
			return itinerary.Outcome{}, err
		}
		if len(plan.images) == 0 {
			s.DISM.Status.Progress = &migv1.ImageCopyProgress{}
			return itinerary.Done(), nil
		}
		s.DISM.Status.Progress = &migv1.ImageCopyProgress{TotalImages: len(plan.images)}
		copies.start(s.r.base, s.key(), s.DISM.UID, s.Now(), s.r.copyWork(plan, s.Settings.ImageCopyParallelism))
		return itinerary.Wait(pollCopy), nil
	}
	p := st.Progress
	s.DISM.Status.Progress = &p
	if !st.Done {
		return itinerary.Wait(pollCopy), nil
	}
	copies.forget(s.key())
	return copyOutcome(st.Err), nil
}

// copyOutcome turns a finished copy into the phase's outcome: a failed copy fails the DISM
// (it is not an error of the reconcile: retrying the reconcile cannot help, the copy already
// retried what may pass). The reason leads the error line, which the DIM and the migration
// repeat.
func copyOutcome(err error) itinerary.Outcome {
	if err == nil {
		return itinerary.Done()
	}
	reason, message := describeFailure(err)
	return itinerary.Failed(reason, reason+": "+message)
}
