package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Condition type and reason of the no-progress watchdog (Ferry's), on MigMigrations and
// DirectVolumeMigrations.
const (
	// NoProgress: Warn, while it lasts; the current phase has observed no progress of what it
	// waits for (named in the message, with its last observed state and since when) for
	// migration_no_progress_warning_minutes.
	NoProgress = "NoProgress"
	// NoProgressTimeout is the failure reason of a phase that observed no progress for
	// migration_no_progress_timeout_minutes.
	NoProgressTimeout = "NoProgressTimeout"
)

// ProgressWatch is the memory of the no-progress watchdog for the current phase.
type ProgressWatch struct {
	// Phase is the phase watched; a watch of another phase is stale.
	Phase string `json:"phase"`
	// Waiting says what the phase waits for, for example "Restore openshift-migration/x on
	// the destination cluster".
	// +optional
	Waiting string `json:"waiting,omitempty"`
	// State is what was last observed of it; progress is a change of State.
	// +optional
	State string `json:"state,omitempty"`
	// Since is when State last changed (or the phase started).
	Since metav1.Time `json:"since"`
}
