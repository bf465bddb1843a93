package migmigration

import (
	"context"
	"fmt"
	"strings"

	units "github.com/docker/go-units"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

const (
	roleDirectImageMigration = "DirectImageMigration"
	// directImageLabel marks the DIM a migration created.
	directImageLabel = migv1.DirectImageMigrationLabel
	// dimPhaseCompleted is the DIM's final phase.
	dimPhaseCompleted = "Completed"
)

// dimKey is the name of the migration's DirectImageMigration on the host.
func (s *Scope) dimKey() types.NamespacedName {
	return types.NamespacedName{Namespace: s.Migration.Namespace, Name: veleroadapter.Name(s.adapterMigration(), "dim")}
}

// createDirectImageMigration creates the DIM that copies the images of the plan's
// ImageStreams registry to registry, when the source has ImageStreams (MTC created one
// regardless, to find none).
func (r *Reconciler) createDirectImageMigration(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	if !s.Facts.HasISs {
		s.setProgress("No ImageStreams to migrate.")
		return itinerary.Done(), nil
	}
	key := s.dimKey()
	if s.record(migv1.MigrationReference{Role: roleDirectImageMigration, Cluster: onHost, Kind: "DirectImageMigration", Namespace: key.Namespace, Name: key.Name}) {
		return requeueSoon()
	}
	labels := veleroadapter.MigrationSelector(string(s.Migration.UID))
	labels[directImageLabel] = string(s.Migration.UID)
	// DISMs pass these to the destination ImageStreams, so that a rollback deletes them.
	labels[migratedByPlanLabel] = string(s.Plan.UID)
	labels[migratedByMigrationLabel] = string(s.Migration.UID)
	dim := &migv1.DirectImageMigration{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: labels},
		Spec: migv1.DirectImageMigrationSpec{
			SrcMigClusterRef:  s.Plan.Spec.SrcMigClusterRef,
			DestMigClusterRef: s.Plan.Spec.DestMigClusterRef,
			Namespaces:        s.Plan.Spec.Namespaces,
			LabelSelector:     s.Plan.Spec.LabelSelector,
		},
	}
	if err := controllerutil.SetControllerReference(s.Migration, dim, r.Client.Scheme()); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("own DirectImageMigration: %w", err)
	}
	if err := r.host().Create(ctx, dim); err != nil && !apierrors.IsAlreadyExists(err) {
		return itinerary.Outcome{}, fmt.Errorf("create DirectImageMigration %s: %w", key, err)
	}
	return itinerary.Done(), nil
}

// hasDirectImageMigration says whether the migration created a DIM (none when the source had
// no ImageStreams).
func (s *Scope) hasDirectImageMigration() bool {
	for _, ref := range s.Migration.Status.References {
		if ref.Role == roleDirectImageMigration {
			return true
		}
	}
	return false
}

// waitForDirectImageMigration follows the DIM until it completes, with its progress: MTC's
// summary line, then a line per ImageStream with images and bytes copied. A failed DIM fails
// the migration: the images the applications run would be missing on the destination.
func (r *Reconciler) waitForDirectImageMigration(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	if !s.hasDirectImageMigration() {
		return itinerary.Done(), nil
	}
	key := s.dimKey()
	dim := &migv1.DirectImageMigration{}
	if err := r.host().Get(ctx, key, dim); err != nil {
		if apierrors.IsNotFound(err) {
			return itinerary.Failed("DirectImageMigrationFailed", fmt.Sprintf("DirectImageMigration %s was deleted before it completed.", key)), nil
		}
		return itinerary.Outcome{}, fmt.Errorf("get DirectImageMigration %s: %w", key, err)
	}
	s.setProgress(dimProgress(dim)...)
	st := dim.Status
	if failed := conditions.Find(st.Conditions, migv1.Failed); failed != nil {
		why := failed.Message
		if len(st.Errors) > 0 {
			why = strings.Join(st.Errors, "; ")
		}
		return itinerary.Failed("DirectImageMigrationFailed", fmt.Sprintf("DirectImageMigration %s failed: %s", key.Name, why)), nil
	}
	if st.Phase == dimPhaseCompleted {
		return itinerary.Done(), nil
	}
	if blockers := blockingConditions(st.Conditions); blockers != "" {
		s.notice(migv1.DirectImageMigrationFailed, fmt.Sprintf("DirectImageMigration %s is not moving: %s", key, blockers))
	}
	return itinerary.Wait(pollSlow).Observed(fmt.Sprintf("DirectImageMigration %s", key), dimState(dim)), nil
}

// dimProgress is MTC's progress of a DIM: "N total ImageStreams; R running; S successful; F
// failed[; D deleted]", then one line per stream, with Ferry's images and bytes.
func dimProgress(dim *migv1.DirectImageMigration) []string {
	st := dim.Status
	total := len(st.NewISs) + len(st.SuccessfulISs) + len(st.FailedISs) + len(st.DeletedISs)
	head := fmt.Sprintf("%d total ImageStreams; %d running; %d successful; %d failed", total, len(st.NewISs), len(st.SuccessfulISs), len(st.FailedISs))
	if len(st.DeletedISs) > 0 {
		head += fmt.Sprintf("; %d deleted", len(st.DeletedISs))
	}
	if p := st.Progress; p != nil && p.TotalImages > 0 {
		head += "; " + copyProgress(p)
	}
	lines := []string{head}
	for _, group := range []struct {
		state string
		items []*migv1.ImageStreamListItem
	}{{"Running", st.NewISs}, {"Completed", st.SuccessfulISs}, {"Failed", st.FailedISs}, {"Deleted", st.DeletedISs}} {
		for _, item := range group.items {
			line := fmt.Sprintf("ImageStream %s/%s", item.Namespace, item.Name)
			if item.DirectMigration != nil {
				line += fmt.Sprintf(" (dism %s/%s)", item.DirectMigration.Namespace, item.DirectMigration.Name)
			}
			line += ": " + group.state
			if item.Progress != nil && item.Progress.TotalImages > 0 {
				line += ", " + copyProgress(item.Progress)
			}
			lines = append(lines, line)
		}
	}
	return lines
}

// bytesToSI prints a byte count in SI units, as MTC's progress lines do ("120.5MB").
func bytesToSI(n int64) string { return units.HumanSize(float64(n)) }

// copyProgress reads "3/5 images, 120MB of 300MB copied (80MB already there), 12MB/s".
func copyProgress(p *migv1.ImageCopyProgress) string {
	out := fmt.Sprintf("%d/%d images, %s of %s copied", p.CopiedImages, p.TotalImages, bytesToSI(p.CopiedBytes), bytesToSI(p.TotalBytes))
	if p.SkippedBytes > 0 {
		out += fmt.Sprintf(" (%s already there)", bytesToSI(p.SkippedBytes))
	}
	if p.BytesPerSecond > 0 {
		out += fmt.Sprintf(", %s/s", bytesToSI(p.BytesPerSecond))
	}
	return out
}

// dimState is what the no-progress watchdog compares: the streams' states and bytes.
func dimState(dim *migv1.DirectImageMigration) string {
	st := dim.Status
	state := fmt.Sprintf("%s %d/%d/%d/%d", st.Phase, len(st.NewISs), len(st.SuccessfulISs), len(st.FailedISs), len(st.DeletedISs))
	if p := st.Progress; p != nil {
		state += fmt.Sprintf(" %d %d %d", p.CopiedImages, p.CopiedBytes, p.SkippedBytes)
	}
	return state
}

// blockingConditions are the DIM's Critical validation conditions, which keep it from running.
func blockingConditions(list migv1.Conditions) string {
	var out []string
	for _, c := range list {
		if conditions.IsBlocker(c) {
			out = append(out, c.Message)
		}
	}
	return strings.Join(out, " ")
}

// deleteDirectImageMigrations deletes the migration's DIMs; their DISMs go with them.
func (r *Reconciler) deleteDirectImageMigrations(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	return r.deleteChildren(ctx, s, &migv1.DirectImageMigrationList{}, directImageLabel)
}
