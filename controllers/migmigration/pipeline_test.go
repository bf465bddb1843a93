package migmigration

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/settings"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Minute))
)

// summary renders each step as "Name: state", the state being Not started, Running <phase>,
// Completed, Failed or Skipped; and checks that the message agrees with the state.
func summary(t *testing.T, p []*migv1.Step) []string {
	t.Helper()
	out := make([]string, 0, len(p))
	for _, s := range p {
		var state, msg string
		switch {
		case s.Failed:
			state, msg = stepFailed, stepFailed
		case s.Skipped:
			state, msg = stepSkipped, stepSkipped
		case s.Completed != nil:
			state, msg = stepCompleted, stepCompleted
		case s.Started != nil:
			state, msg = "Running "+s.Phase, s.Message
		default:
			state, msg = stepNotStarted, stepNotStarted
		}
		if s.Message != msg || msg == "" {
			t.Errorf("step %s (%s) has message %q, want %q", s.Name, state, s.Message, msg)
		}
		out = append(out, s.Name+": "+state)
	}
	return out
}

func assertSteps(t *testing.T, p []*migv1.Step, want ...string) {
	t.Helper()
	if got := summary(t, p); !slices.Equal(got, want) {
		t.Errorf("pipeline\n got %q\nwant %q", got, want)
	}
}

// walk shows each phase of it that applies under f, up to and including phase, as successive
// reconciles would.
func walk(p []*migv1.Step, it Itinerary, f Facts, phase string, now metav1.Time) []*migv1.Step {
	for _, ph := range itinerary.Applicable(it, f) {
		p = updatePipeline(p, it, f, ph.Name, "", now)
		if ph.Name == phase {
			break
		}
	}
	return p
}

func TestInitPipeline(t *testing.T) {
	its := testItineraries(t)
	p := initPipeline(nil, its[FinalItinerary], direct)
	assertSteps(t, p, "Prepare: Not started", "Backup: Not started", "StageBackup: Not started",
		"DirectImage: Not started", "DirectVolume: Not started", "Restore: Not started", "Cleanup: Not started")

	// Canceled during the Backup step: the Final steps stay, Cancel's follow, and Final's
	// Cleanup step, which never started, moves to the end where Cancel runs it.
	p = walk(p, its[FinalItinerary], direct, phaseEnsureInitialBackup, t0)
	p = initPipeline(p, its[CancelItinerary], direct)
	assertSteps(t, p, "Prepare: Completed", "Backup: Running EnsureInitialBackup", "StageBackup: Not started",
		"DirectImage: Not started", "DirectVolume: Not started", "Restore: Not started",
		"CleanupVelero: Not started", "CleanupHelpers: Not started", "CleanupUnquiesce: Not started", "Cleanup: Not started")
}

func TestUpdatePipeline(t *testing.T) {
	final := testItineraries(t)[FinalItinerary]
	quiesced := with(direct, Facts{Quiesce: true})
	noImages := quiesced
	noImages.EnableImage = false
	cases := []struct {
		name  string
		facts Facts
		phase string
		want  []string
	}{{
		name: "first phase", facts: quiesced, phase: phaseStarted,
		want: []string{"Prepare: Running Started", "Backup: Not started", "StageBackup: Not started",
			"DirectImage: Not started", "DirectVolume: Not started", "Restore: Not started", "Cleanup: Not started"},
	}, {
		name: "a later step completes the earlier ones", facts: quiesced, phase: phaseEnsureSrcQuiesced,
		want: []string{"Prepare: Completed", "Backup: Completed", "StageBackup: Running EnsureSrcQuiesced",
			"DirectImage: Not started", "DirectVolume: Not started", "Restore: Not started", "Cleanup: Not started"},
	}, {
		name: "facts that drop a step skip it", facts: noImages, phase: phaseWaitForDirectVolumeMigrationToComplete,
		want: []string{"Prepare: Completed", "Backup: Completed", "StageBackup: Completed",
			"DirectImage: Skipped", "DirectVolume: Running WaitForDirectVolumeMigrationToComplete", "Restore: Not started",
			"Cleanup: Not started"},
	}, {
		name: "completed finishes every step", facts: quiesced, phase: itinerary.Completed,
		want: []string{"Prepare: Completed", "Backup: Completed", "StageBackup: Completed",
			"DirectImage: Completed", "DirectVolume: Completed", "Restore: Completed", "Cleanup: Completed"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := initPipeline(nil, final, quiesced)
			p = walk(p, final, tc.facts, tc.phase, t0)
			p = updatePipeline(p, final, tc.facts, tc.phase, "", t1)
			assertSteps(t, p, tc.want...)
		})
	}
}

func TestUpdatePipelineMessagesAndTimes(t *testing.T) {
	final := testItineraries(t)[FinalItinerary]
	p := initPipeline(nil, final, direct)
	p = updatePipeline(p, final, direct, phaseStarted, "", t0)
	p = updatePipeline(p, final, direct, phaseWaitForVeleroReady, "", t1)
	prepare := p[0]
	if prepare.Message != phaseDescriptions[phaseWaitForVeleroReady] || prepare.Phase != phaseWaitForVeleroReady {
		t.Errorf("running step = %q/%q, want the phase and its description", prepare.Phase, prepare.Message)
	}
	if prepare.Started == nil || !prepare.Started.Equal(&t0) {
		t.Errorf("Started = %v, want the first time the step ran (%v)", prepare.Started, t0)
	}

	p = updatePipeline(p, final, direct, phaseWaitForDirectVolumeMigrationToComplete, "Copying 3 volumes.", t1)
	dv := p[slices.IndexFunc(p, func(s *migv1.Step) bool { return s.Name == stepDirectVolume })]
	if dv.Message != "Copying 3 volumes." {
		t.Errorf("DirectVolume message = %q, want the step function's detail", dv.Message)
	}
	if prepare.Completed == nil || !prepare.Completed.Equal(&t1) || prepare.Phase != "" {
		t.Errorf("Prepare = completed %v, phase %q; want completed at %v with no phase", prepare.Completed, prepare.Phase, t1)
	}

	before := summary(t, p)
	p = updatePipeline(p, final, direct, "NoSuchPhase", "", t1)
	if got := summary(t, p); !slices.Equal(got, before) {
		t.Errorf("an unknown phase changed the pipeline: %q", got)
	}
}

func TestFailedPipeline(t *testing.T) {
	its := testItineraries(t)
	f := with(direct, Facts{Quiesce: true})
	p := initPipeline(nil, its[FinalItinerary], f)
	p = walk(p, its[FinalItinerary], f, phaseWaitForDirectVolumeMigrationToComplete, t0)
	p = failStep(p, its[FinalItinerary], phaseWaitForDirectVolumeMigrationToComplete)
	if dv := p[4]; !dv.Failed || dv.Phase != phaseWaitForDirectVolumeMigrationToComplete {
		t.Errorf("DirectVolume = %+v, want failed in its phase", dv)
	}

	p = initPipeline(p, its[FailedItinerary], f)
	p = updatePipeline(p, its[FailedItinerary], f, phaseMigrationFailed, "", t1)
	assertSteps(t, p, "Prepare: Completed", "Backup: Completed", "StageBackup: Completed", "DirectImage: Completed",
		"DirectVolume: Failed", "Restore: Skipped", "Cleanup: Skipped",
		"CleanupHelpers: Running MigrationFailed", "CleanupUnquiesce: Not started")

	p = updatePipeline(p, its[FailedItinerary], f, itinerary.Completed, "", t1)
	assertSteps(t, p, "Prepare: Completed", "Backup: Completed", "StageBackup: Completed", "DirectImage: Completed",
		"DirectVolume: Failed", "Restore: Skipped", "Cleanup: Skipped",
		"CleanupHelpers: Completed", "CleanupUnquiesce: Skipped")
}

func TestSplitStepCompletesAfterItsLastPhase(t *testing.T) {
	rollback := testItineraries(t)[RollbackItinerary]
	f := with(direct, Facts{Rollback: true, LiveVMMigration: true})
	p := initPipeline(nil, rollback, f)
	p = walk(p, rollback, f, phaseEnsureDestQuiesced, t0)
	p = updatePipeline(p, rollback, f, phaseCreateDirectVolumeMigrationRollback, "", t1)
	// MTC marked CleanupMigrated completed here, then ran DeleteMigrated in it.
	assertSteps(t, p, "CleanupVelero: Completed", "CleanupHelpers: Completed",
		"CleanupMigrated: Running EnsureDestQuiesced", "RollbackLiveMigration: Running CreateDirectVolumeMigrationRollback",
		"CleanupUnquiesce: Not started")
	p = updatePipeline(p, rollback, f, phaseDeleteMigrated, "", t1)
	assertSteps(t, p, "CleanupVelero: Completed", "CleanupHelpers: Completed",
		"CleanupMigrated: Running DeleteMigrated", "RollbackLiveMigration: Completed", "CleanupUnquiesce: Not started")
}

func TestEnsureStepKeepsOrder(t *testing.T) {
	final := testItineraries(t)[FinalItinerary]
	p := initPipeline(nil, final, direct) // no hooks: no PreBackupHooks step
	p = updatePipeline(p, final, direct, phaseStarted, "", t0)
	p = updatePipeline(p, final, with(direct, allHooks), phasePreBackupHooks, "", t1)
	assertSteps(t, p, "Prepare: Completed", "PreBackupHooks: Running PreBackupHooks", "Backup: Not started",
		"StageBackup: Not started", "DirectImage: Not started", "DirectVolume: Not started", "Restore: Not started",
		"Cleanup: Not started")
}

func TestRunningMessage(t *testing.T) {
	its := testItineraries(t)
	cases := []struct {
		itinerary string
		facts     Facts
		phase     string
		want      string
	}{
		{FinalItinerary, direct, phaseStarted, "Step: 1/22"},
		{FinalItinerary, direct, phaseCreateDirectVolumeMigrationStage, "Step: 15/22"},
		{FinalItinerary, direct, phaseDeleteRegistries, "Step: 22/22"},
		{FinalItinerary, direct, itinerary.Completed, "Step: 22/22"},
		{FailedItinerary, with(direct, Facts{Quiesce: true}), phaseUnQuiesceSrcApplications, "Step: 3/3"},
	}
	for _, tc := range cases {
		if got := runningMessage(its[tc.itinerary], tc.facts, tc.phase); got != tc.want {
			t.Errorf("runningMessage(%s, %s) = %q, want %q", tc.itinerary, tc.phase, got, tc.want)
		}
	}
}

// TestCancelDuringTheRestoreStartsTheSource: a migration canceled while its restore runs
// (step Restore started, UnQuiesceDestApplications not reached) has not started the
// applications on the destination, so its Cancel itinerary starts the source again, on every
// reconcile of the Cancel, not only the first. The first Cancel reconcile used to complete the
// interrupted Restore step in the pipeline, which then read as "the destination runs the
// applications" and skipped UnQuiesceSrcApplications.
func TestCancelDuringTheRestoreStartsTheSource(t *testing.T) {
	its := testItineraries(t)
	plan := readyPlan()
	plan.Spec.PersistentVolumes = []migv1.PV{{Selection: migv1.Selection{Action: migv1.PvCopyAction, CopyMethod: migv1.PvFilesystemCopyMethod}}}
	m := mig("m", 0, migv1.MigMigrationSpec{QuiescePods: true})
	facts := func() Facts {
		return computeFacts(factsInput{migration: &m, plan: plan, settings: settings.Defaults()})
	}
	f := facts()
	m.Status.Pipeline = initPipeline(nil, its[FinalItinerary], f)
	m.Status.Pipeline = walk(m.Status.Pipeline, its[FinalItinerary], f, phaseEnsureFinalRestore, t0)
	m.Status.Itinerary, m.Status.Phase = FinalItinerary, phaseEnsureFinalRestore

	// The first Cancel reconcile: Canceling, then DeleteBackups waits.
	f = facts()
	m.Status.Pipeline = initPipeline(m.Status.Pipeline, its[CancelItinerary], f)
	m.Status.Pipeline = updatePipeline(m.Status.Pipeline, its[CancelItinerary], f, phaseDeleteBackups, "", t1)
	m.Status.Itinerary, m.Status.Phase = CancelItinerary, phaseDeleteBackups
	canceling := conditions.Advisory(migv1.Canceling, migv1.Cancel, cancelingMessage)
	canceling.Durable = true
	m.Status.Conditions = append(m.Status.Conditions, canceling)

	// The next reconcile must still plan UnQuiesceSrcApplications.
	f = facts()
	if f.DestUnquiesced {
		t.Fatalf("DestUnquiesced after a cancel during the restore; pipeline %q", summary(t, m.Status.Pipeline))
	}
	if !slices.ContainsFunc(itinerary.Applicable(its[CancelItinerary], f), func(p Phase) bool { return p.Name == phaseUnQuiesceSrcApplications }) {
		t.Errorf("the Cancel itinerary does not start the source again")
	}
}
