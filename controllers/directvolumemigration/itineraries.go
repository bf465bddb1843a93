package directvolumemigration

import (
	"time"

	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Itinerary names (MTC's).
const (
	VolumeMigrationItinerary         = "VolumeMigration"
	VolumeMigrationRollbackItinerary = "VolumeMigrationRollback"
	VolumeMigrationFailedItinerary   = "VolumeMigrationFailed"
)

// Phase names (MTC's; persisted in status.phase, so API).
const (
	Started                                = "Started"
	Prepare                                = "Prepare"
	CleanStaleRsyncResources               = "CleanStaleRsyncResources"
	WaitForStaleRsyncResourcesTerminated   = "WaitForStaleRsyncResourcesTerminated"
	CreateDestinationNamespaces            = "CreateDestinationNamespaces"
	DestinationNamespacesCreated           = "DestinationNamespacesCreated"
	CreateDestinationPVCs                  = "CreateDestinationPVCs"
	CreateRsyncRoute                       = "CreateRsyncRoute"
	EnsureRsyncRouteAdmitted               = "EnsureRsyncRouteAdmitted"
	CreateRsyncConfig                      = "CreateRsyncConfig"
	CreateStunnelConfig                    = "CreateStunnelConfig"
	CreatePVProgressCRs                    = "CreatePVProgressCRs"
	CreateRsyncTransferPods                = "CreateRsyncTransferPods"
	WaitForRsyncTransferPodsRunning        = "WaitForRsyncTransferPodsRunning"
	RunRsyncOperations                     = "RunRsyncOperations"
	DeleteRsyncResources                   = "DeleteRsyncResources"
	WaitForRsyncResourcesTerminated        = "WaitForRsyncResourcesTerminated"
	MigrationFailed                        = "MigrationFailed"
	stepPrepare, stepTransfer, stepCleanup = "Prepare", "Transfer", "Cleanup"
)

// Facts are the facts phases are chosen by. DVM phases all apply; the type exists for the
// engine and for the VM phases to come.
type Facts struct{}

// Itinerary is a DVM itinerary.
type Itinerary = itinerary.Itinerary[*Scope, Facts]

// Phase is a DVM phase.
type Phase = itinerary.Phase[*Scope, Facts]

// watched marks a phase that waits for pods and transfers: the no-progress watchdog
// (migration_no_progress_*) warns, then fails it, when what it observes stops changing.
func watched(p Phase) Phase {
	p.Watch = true
	return p
}

// Itineraries builds the DVM itineraries with the step functions of run.
func Itineraries() map[string]Itinerary {
	phase := func(name, step string, run itinerary.RunFunc[*Scope], timeout time.Duration) Phase {
		return Phase{Name: name, Step: step, Run: run, Timeout: timeout}
	}
	main := Itinerary{Name: VolumeMigrationItinerary, Phases: []Phase{
		phase(Started, stepPrepare, started, 0),
		phase(Prepare, stepPrepare, noop, 0),
		phase(CleanStaleRsyncResources, stepPrepare, deleteTransferResources, 0),
		phase(WaitForStaleRsyncResourcesTerminated, stepPrepare, waitTransferResourcesGone, 10*time.Minute),
		phase(CreateDestinationNamespaces, stepPrepare, createDestinationNamespaces, 10*time.Minute),
		phase(DestinationNamespacesCreated, stepPrepare, noop, 0),
		phase(CreateDestinationPVCs, stepPrepare, createDestinationPVCs, 10*time.Minute),
		phase(CreateRsyncRoute, stepTransfer, createEndpoints, 10*time.Minute),
		phase(EnsureRsyncRouteAdmitted, stepTransfer, ensureEndpointsReady, 10*time.Minute),
		phase(CreateRsyncConfig, stepTransfer, createCredentials, 10*time.Minute),
		phase(CreateStunnelConfig, stepTransfer, createTransferConfig, 10*time.Minute),
		phase(CreatePVProgressCRs, stepTransfer, createProgressCRs, 10*time.Minute),
		phase(CreateRsyncTransferPods, stepTransfer, createServerPods, 10*time.Minute),
		watched(phase(WaitForRsyncTransferPodsRunning, stepTransfer, waitServerPodsRunning, 30*time.Minute)),
		watched(phase(RunRsyncOperations, stepTransfer, runRsyncOperations, 0)),
		phase(DeleteRsyncResources, stepCleanup, deleteTransferResources, 0),
		phase(WaitForRsyncResourcesTerminated, stepCleanup, waitTransferResourcesGone, 10*time.Minute),
	}}
	rollback := itinerary.Subset(main, VolumeMigrationRollbackItinerary,
		Started, Prepare, CleanStaleRsyncResources, WaitForStaleRsyncResourcesTerminated)
	failed := Itinerary{Name: VolumeMigrationFailedItinerary, Phases: []Phase{
		phase(MigrationFailed, stepCleanup, noop, 0),
		phase(DeleteRsyncResources, stepCleanup, deleteTransferResources, 0),
		phase(WaitForRsyncResourcesTerminated, stepCleanup, waitTransferResourcesGone, 10*time.Minute),
	}}
	return map[string]Itinerary{main.Name: main, rollback.Name: rollback, failed.Name: failed}
}
