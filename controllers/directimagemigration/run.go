package directimagemigration

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/migrun"
)

// Scope is what the step functions of one reconcile work with.
type Scope struct {
	DIM                 *migv1.DirectImageMigration
	Source, Destination client.Client
	Pairs               []namespacePair
	Now                 func() time.Time

	r *Reconciler
}

func (r *Reconciler) scope(o *observed) *Scope {
	return &Scope{DIM: o.dim, Source: o.source, Destination: o.destination, Pairs: o.pairs, Now: r.Clock.Now, r: r}
}

// status points at the DIM's record of its run.
func status(dim *migv1.DirectImageMigration) migrun.Status {
	st := &dim.Status
	return migrun.Status{Phase: &st.Phase, Itinerary: &st.Itinerary, Errors: &st.Errors,
		StartTimestamp: &st.StartTimestamp, ObservedGeneration: &st.ObservedGeneration}
}

// runner runs the itineraries.
func (r *Reconciler) runner() migrun.Runner[*Scope, Facts] {
	return migrun.Runner[*Scope, Facts]{Main: r.itineraries[ImageMigrationItinerary], Failed: r.itineraries[FailedItinerary],
		Budget: budget, Idle: blockedRecheck, Now: r.Clock.Now}
}

// noop is a phase kept for MTC's phase names that has nothing to do here (Started: the
// runner stamps startTimestamp).
func noop(context.Context, *Scope) (itinerary.Outcome, error) { return itinerary.Done(), nil }
