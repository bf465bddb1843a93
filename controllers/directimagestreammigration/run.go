package directimagestreammigration

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/migrun"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// Scope is what the step functions of one reconcile work with.
type Scope struct {
	DISM                *migv1.DirectImageStreamMigration
	Settings            settings.Settings
	Source, Destination *Remote
	// ImageStream is the source ImageStream.
	ImageStream *unstructured.Unstructured
	// Now is the reconcile's clock.
	Now func() time.Time

	r *Reconciler
}

func (r *Reconciler) scope(o *observed) *Scope {
	return &Scope{DISM: o.dism, Settings: o.settings, Source: o.source, Destination: o.destination,
		ImageStream: o.imageStream, Now: r.Clock.Now, r: r}
}

// key is the DISM's name, which keys its background copy.
func (s *Scope) key() types.NamespacedName {
	return types.NamespacedName{Namespace: s.DISM.Namespace, Name: s.DISM.Name}
}

// status points at the DISM's record of its run.
func status(dism *migv1.DirectImageStreamMigration) migrun.Status {
	st := &dism.Status
	return migrun.Status{Phase: &st.Phase, Itinerary: &st.Itinerary, Errors: &st.Errors,
		StartTimestamp: &st.StartTimestamp, ObservedGeneration: &st.ObservedGeneration}
}

// runner runs the itineraries.
func (r *Reconciler) runner() migrun.Runner[*Scope, Facts] {
	return migrun.Runner[*Scope, Facts]{Main: r.itineraries[ImageStreamMigrationItinerary], Failed: r.itineraries[FailedItinerary],
		Budget: budget, Idle: blockedRecheck, Now: r.Clock.Now}
}

// noop is a phase kept for MTC's phase names that has nothing to do here (Started: the
// runner stamps startTimestamp).
func noop(context.Context, *Scope) (itinerary.Outcome, error) { return itinerary.Done(), nil }

// stopCopy ends a failed DISM: its background copy, if any, is cancelled.
func stopCopy(_ context.Context, s *Scope) (itinerary.Outcome, error) {
	s.r.copies.forget(s.key())
	return itinerary.Done(), nil
}
