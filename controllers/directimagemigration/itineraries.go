package directimagemigration

import (
	"time"

	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Itinerary names. MTC named its main DIM itinerary "PVC" (a copy of the DVM's); it shows in
// status.itinerary, so it is kept.
const (
	ImageMigrationItinerary = "PVC"
	FailedItinerary         = "Failed"
)

// Phase names (MTC's; persisted in status.phase, so API).
const (
	Started                                         = "Started"
	Prepare                                         = "Prepare"
	CreateDestinationNamespaces                     = "CreateDestinationNamespaces"
	ListImageStreams                                = "ListImageStreams"
	CreateDirectImageStreamMigrations               = "CreateDirectImageStreamMigrations"
	WaitingForDirectImageStreamMigrationsToComplete = "WaitingForDirectImageStreamMigrationsToComplete"
	MigrationFailed                                 = "MigrationFailed"
	stepPrepare, stepCopy                           = "Prepare", "ImageCopy"
)

// Facts are the facts phases are chosen by: every DIM phase applies.
type Facts struct{}

// Itinerary is a DIM itinerary.
type Itinerary = itinerary.Itinerary[*Scope, Facts]

// Phase is a DIM phase.
type Phase = itinerary.Phase[*Scope, Facts]

// Itineraries builds the DIM itineraries.
func Itineraries() map[string]Itinerary {
	phase := func(name, step string, run itinerary.RunFunc[*Scope], timeout time.Duration) Phase {
		return Phase{Name: name, Step: step, Run: run, Timeout: timeout}
	}
	main := Itinerary{Name: ImageMigrationItinerary, Phases: []Phase{
		phase(Started, stepPrepare, noop, 0),
		phase(Prepare, stepPrepare, noop, 0),
		phase(CreateDestinationNamespaces, stepPrepare, createDestinationNamespaces, 10*time.Minute),
		phase(ListImageStreams, stepPrepare, listImageStreams, 10*time.Minute),
		phase(CreateDirectImageStreamMigrations, stepCopy, createImageStreamMigrations, 10*time.Minute),
		phase(WaitingForDirectImageStreamMigrationsToComplete, stepCopy, waitForImageStreamMigrations, 0),
	}}
	failed := Itinerary{Name: FailedItinerary, Phases: []Phase{
		phase(MigrationFailed, stepCopy, noop, 0),
	}}
	return map[string]Itinerary{main.Name: main, failed.Name: failed}
}
