package directvolumemigration

import (
	"fmt"
	"slices"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Condition messages (MTC's).
const (
	readyMessage     = "Direct migration is ready"
	succeededMessage = "The migration has succeeded"
	failedMessage    = "The migration has failed.  See: Errors."
)

// desiredConditions computes every condition of a DVM that ran this reconcile: validation
// (non-blocking by now), Ready, the warnings steps observed, the network diagnosis, and
// Running or Succeeded. Failed is durable and set by fail.
func desiredConditions(s *Scope, validation []migv1.Condition, n, total int) []migv1.Condition {
	dvm := s.DVM
	out := slices.Clone(validation)
	out = append(out, conditions.Required(migv1.Ready, "", readyMessage))
	out = append(out, s.warnings...)
	out = append(out, s.refusalCondition()...)
	out = append(out, conditions.NoProgress(s.stall, s.limits, "DVM")...)
	if w := s.nonRootWarning(); w != nil {
		out = append(out, *w)
	}
	out = append(out, s.resizeConditions()...)
	if s.networkError != nil {
		out = append(out, *s.networkError)
	}
	failed := conditions.Find(dvm.Status.Conditions, migv1.Failed) != nil
	switch {
	case dvm.Status.Phase == itinerary.Completed && !failed:
		done := conditions.Advisory(migv1.Succeeded, "", succeededMessage)
		done.Durable = true
		out = append(out, done)
	case dvm.Status.Phase != itinerary.Completed:
		out = append(out, conditions.Advisory(migv1.Running, dvm.Status.Phase, fmt.Sprintf("Step: %d/%d", n, total)))
	}
	return out
}

// blockedConditions are the conditions of a DVM that validation blocks: the validation
// conditions, and Running kept as it was when the DVM was blocked half-way.
func blockedConditions(dvm *migv1.DirectVolumeMigration, validation []migv1.Condition) []migv1.Condition {
	out := slices.Clone(validation)
	if c := conditions.Find(dvm.Status.Conditions, migv1.Running); c != nil {
		out = append(out, *c)
	}
	return out
}

// phaseDescriptions are MTC's descriptions of the DVM phases.
var phaseDescriptions = map[string]string{
	"":                                   "Migration not started.",
	Started:                              "Migration started.",
	Prepare:                              "Preparing for the migration.",
	CleanStaleRsyncResources:             "Deleting stale transfer resources of earlier attempts.",
	WaitForStaleRsyncResourcesTerminated: "Waiting for stale transfer resources to terminate.",
	CreateDestinationNamespaces:          "Creating target namespaces.",
	DestinationNamespacesCreated:         "Checking if the target namespaces have been created.",
	CreateDestinationPVCs:                "Creating PVCs in the target namespaces.",
	CreateRsyncRoute:                     "Creating the endpoints of the rsync servers on the target cluster.",
	EnsureRsyncRouteAdmitted:             "Waiting for the endpoints of the rsync servers to be ready.",
	CreateRsyncConfig:                    "Creating the certificates and the rsync password of the migration.",
	CreateStunnelConfig:                  "Creating the stunnel and rsync configurations on both clusters.",
	CreatePVProgressCRs:                  "Creating progress reporting resources for the volumes.",
	CreateRsyncTransferPods:              "Creating the rsync server pods on the target cluster.",
	WaitForRsyncTransferPodsRunning:      "Waiting for the rsync server pods to be running.",
	RunRsyncOperations:                   "Transferring data with rsync.",
	DeleteRsyncResources:                 "Deleting the transfer resources.",
	WaitForRsyncResourcesTerminated:      "Waiting for the transfer resources to terminate.",
	MigrationFailed:                      "The migration has failed; cleaning up.",
	itinerary.Completed:                  "Complete",
}

// phaseDescription describes the phase, with the transfer's progress when there is some.
func phaseDescription(s *Scope, phase string) string {
	if s.description != "" && phase == RunRsyncOperations {
		return s.description
	}
	return phaseDescriptions[phase]
}
