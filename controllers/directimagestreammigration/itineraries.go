package directimagestreammigration

import (
	"time"

	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Itinerary names (MTC's).
const (
	ImageStreamMigrationItinerary = "ImageStreamMigration"
	FailedItinerary               = "ImageStreamMigrationFailed"
)

// Phase names (MTC's, plus EnsureDestinationImageStream; persisted in status.phase, so API).
const (
	Started                      = "Started"
	Prepare                      = "Prepare"
	MigrateImageStream           = "MigrateImageStream"
	EnsureDestinationImageStream = "EnsureDestinationImageStream"
	MigrationFailed              = "MigrationFailed"
	stepPrepare, stepCopy        = "Prepare", "ImageCopy"
)

// Facts are the facts phases are chosen by: every DISM phase applies.
type Facts struct{}

// Itinerary is a DISM itinerary.
type Itinerary = itinerary.Itinerary[*Scope, Facts]

// Phase is a DISM phase.
type Phase = itinerary.Phase[*Scope, Facts]

// Itineraries builds the DISM itineraries.
func Itineraries() map[string]Itinerary {
	phase := func(name, step string, run itinerary.RunFunc[*Scope], timeout time.Duration, watch bool) Phase {
		return Phase{Name: name, Step: step, Run: run, Timeout: timeout, Watch: watch}
	}
	main := Itinerary{Name: ImageStreamMigrationItinerary, Phases: []Phase{
		phase(Started, stepPrepare, noop, 0, false),
		phase(Prepare, stepPrepare, noop, 0, false),
		// No phase timeout: a large stream takes as long as it takes. A registry that stops
		// answering is bounded by the copy's own request timeouts (pkg/imagecopy).
		phase(MigrateImageStream, stepCopy, migrateImageStream, 0, false),
		phase(EnsureDestinationImageStream, stepCopy, ensureDestinationImageStream, destinationResolveTimeout, false),
	}}
	failed := Itinerary{Name: FailedItinerary, Phases: []Phase{
		phase(MigrationFailed, stepCopy, stopCopy, 0, false),
	}}
	return map[string]Itinerary{main.Name: main, failed.Name: failed}
}
