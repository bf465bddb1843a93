package migview

import (
	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// Step states, as the CLI prints them between brackets and the console as a badge.
const (
	StepPending = ""
	StepRunning = "running"
	StepDone    = "done"
	StepSkipped = "skipped"
	StepFailed  = "FAILED"
)

// StepState is the state of a pipeline step.
func StepState(s *migv1.Step) string {
	switch {
	case s.Failed:
		return StepFailed
	case s.Skipped:
		return StepSkipped
	case s.Completed != nil:
		return StepDone
	case s.Started != nil:
		return StepRunning
	}
	return StepPending
}

// FailedStep is the first failed step of the migration's pipeline, or nil.
func FailedStep(m *migv1.MigMigration) *migv1.Step {
	for _, s := range m.Status.Pipeline {
		if s.Failed {
			return s
		}
	}
	return nil
}

// Outcome is the condition type that ends the migration, or "" while it runs.
func Outcome(m *migv1.MigMigration) string {
	if m == nil {
		return ""
	}
	for _, t := range []string{migv1.Canceled, migv1.Failed, migv1.SucceededWithWarnings, migv1.Succeeded} {
		for _, c := range m.Status.Conditions {
			if c.Type == t && c.Status == migv1.True {
				return t
			}
		}
	}
	return ""
}

// Phase is the outcome of an ended migration, else its phase, else that the operator has not
// seen it yet.
func Phase(m *migv1.MigMigration) string {
	if o := Outcome(m); o != "" {
		return o
	}
	if m.Status.Phase == "" {
		return "waiting for the operator"
	}
	return m.Status.Phase
}

// Refused says whether the operator refused to start the migration: it never started and a
// validation condition other than Postponed (which only waits its turn) blocks it. Such a
// migration would wait until its spec or plan changes, so watching it longer shows nothing.
func Refused(m *migv1.MigMigration) bool {
	if m == nil || m.Status.Phase != "" {
		return false
	}
	for _, c := range m.Status.Conditions {
		if c.Type != migv1.Postponed && c.Type != migv1.PlanNotReady && conditions.IsBlocker(c) {
			return true
		}
	}
	return false
}

// Kind is the migration's itinerary (Stage, Final, Rollback, Cancel...), or "pending". A state
// migration runs the Stage itinerary, as in MTC, and is named for what the user asked.
func Kind(m *migv1.MigMigration) string {
	switch {
	case m.Status.Itinerary == "":
		return "pending"
	case m.Spec.MigrateState && m.Status.Itinerary == "Stage":
		return "State migration"
	}
	return m.Status.Itinerary
}
