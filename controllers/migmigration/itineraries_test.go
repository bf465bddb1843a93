package migmigration

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferrymtc/ferry/pkg/itinerary"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata (phases.golden only gains names)")

// done is the step function of every phase in these tests.
func done(string) RunFunc {
	return func(context.Context, *Scope) (itinerary.Outcome, error) { return itinerary.Done(), nil }
}

func testItineraries(t *testing.T) map[string]Itinerary {
	t.Helper()
	return Itineraries(done)
}

// Facts of typical plans.
var (
	noPVs    = Facts{DirectImage: true, EnableImage: true}
	direct   = Facts{HasPVs: true, DirectVolume: true, EnableVolume: true, HasISs: true, DirectImage: true, EnableImage: true}
	indirect = Facts{
		HasPVs: true, IndirectVolume: true, EnableVolume: true, HasStageBackup: true, HasStagePods: true,
		HasISs: true, IndirectImage: true, EnableImage: true,
	}
	// snapshot moves or snapshots every PV: a stage backup without stage pods.
	snapshot   = Facts{HasPVs: true, EnableVolume: true, HasStageBackup: true, HasISs: true, DirectImage: true, EnableImage: true}
	conversion = Facts{HasPVs: true, DirectVolume: true, EnableVolume: true, DirectImage: true, StorageConversion: true}
	allHooks   = Facts{HasPreBackupHooks: true, HasPostBackupHooks: true, HasPreRestoreHooks: true, HasPostRestoreHooks: true}
)

// with returns the union of the true facts of fs.
func with(fs ...Facts) Facts {
	var out Facts
	ov := reflect.ValueOf(&out).Elem()
	for _, f := range fs {
		fv := reflect.ValueOf(f)
		for i := range fv.NumField() {
			if fv.Field(i).Bool() {
				ov.Field(i).SetBool(true)
			}
		}
	}
	return out
}

type scenario struct {
	name  string
	facts Facts
}

// scenarios are the golden cases, by itinerary.
var scenarios = map[string][]scenario{
	FinalItinerary: {
		{"no PVs or image streams", noPVs},
		{"direct volumes and images", direct},
		{"direct, quiesced", with(direct, Facts{Quiesce: true})},
		{"direct, quiesced, hooks and verify", with(direct, allHooks, Facts{Quiesce: true, HasVerify: true})},
		{"indirect volumes and images", indirect},
		{"indirect, quiesced", with(indirect, Facts{Quiesce: true})},
		{"snapshot or move, quiesced", with(snapshot, Facts{Quiesce: true})},
		{"image and volume copy disabled", Facts{HasPVs: true, DirectVolume: true, HasISs: true, DirectImage: true}},
		{"live VM migration, quiesced", with(direct, Facts{Quiesce: true, LiveVMMigration: true})},
		{"direct, quiesced, warm sync", with(direct, Facts{Quiesce: true, WarmSync: true})},
		{"direct, quiesced, warm sync, hooks", with(direct, allHooks, Facts{Quiesce: true, WarmSync: true})},
		{"direct, not quiesced, warm sync", with(direct, Facts{WarmSync: true})},
		{"indirect, quiesced, warm sync", with(indirect, Facts{Quiesce: true, WarmSync: true})},
	},
	StageItinerary: {
		{"no PVs or image streams", with(noPVs, Facts{Stage: true})},
		{"direct volumes and images", with(direct, Facts{Stage: true})},
		{"direct, quiesced", with(direct, Facts{Stage: true, Quiesce: true})},
		{"direct, quiesced, warm sync", with(direct, Facts{Stage: true, Quiesce: true, WarmSync: true})},
		{"indirect volumes and images", with(indirect, Facts{Stage: true})},
		{"snapshot or move", with(snapshot, Facts{Stage: true})},
		{"indirect images only", Facts{Stage: true, HasISs: true, IndirectImage: true, EnableImage: true, HasStageBackup: true}},
		{"storage conversion, quiesced", with(conversion, Facts{Stage: true, Quiesce: true})},
	},
	CancelItinerary: {
		{"nothing to clean", Facts{}},
		{"direct volumes and images", direct},
		{"direct, quiesced, warm sync", with(direct, Facts{Quiesce: true, WarmSync: true})},
		{"indirect volumes and images", indirect},
		{"destination unquiesced", with(direct, Facts{Quiesce: true, DestUnquiesced: true})},
		{"rollback", with(direct, Facts{Rollback: true})},
	},
	FailedItinerary: {
		{"not quiesced", direct},
		{"direct, quiesced", with(direct, Facts{Quiesce: true})},
		{"indirect, quiesced", with(indirect, Facts{Quiesce: true})},
		{"quiesced, destination unquiesced", with(direct, Facts{Quiesce: true, DestUnquiesced: true})},
		{"rollback", with(direct, Facts{Rollback: true, Quiesce: true})},
	},
	RollbackItinerary: {
		{"nothing migrated", Facts{Rollback: true}},
		{"direct volumes and images", with(direct, Facts{Rollback: true})},
		{"indirect volumes and images", with(indirect, Facts{Rollback: true})},
		{"live VM migration", with(direct, Facts{Rollback: true, LiveVMMigration: true})},
		{"storage conversion", with(conversion, Facts{Rollback: true})},
	},
}

// TestItinerariesGolden compares the phases that apply in each scenario with
// testdata/<itinerary>.golden, and runs each scenario to Completed with the engine.
func TestItinerariesGolden(t *testing.T) {
	its := testItineraries(t)
	if len(scenarios) != len(its) {
		t.Fatalf("scenarios cover %d itineraries, want all %d", len(scenarios), len(its))
	}
	for name, cases := range scenarios {
		t.Run(name, func(t *testing.T) {
			it := its[name]
			var b strings.Builder
			fmt.Fprintf(&b, "# Itinerary %s: the phases that apply in each case, as \"Phase [Step]\".\n", name)
			b.WriteString("# Regenerate with: go test ./controllers/migmigration/ -update\n")
			for _, sc := range cases {
				fmt.Fprintf(&b, "\n## %s\n", sc.name)
				applicable := itinerary.Applicable(it, sc.facts)
				for _, p := range applicable {
					fmt.Fprintf(&b, "%s [%s]\n", p.Name, p.Step)
				}
				assertRunsToCompletion(t, it, sc, applicable)
			}
			compareGolden(t, filepath.Join("testdata", name+".golden"), b.String())
		})
	}
}

// assertRunsToCompletion runs the itinerary from a new cursor with phases that finish at once:
// it must reach Completed in one call, through exactly the applicable phases.
func assertRunsToCompletion(t *testing.T, it Itinerary, sc scenario, applicable []Phase) {
	t.Helper()
	res, err := itinerary.Run(context.Background(), it, &Scope{}, sc.facts, itinerary.Cursor{}, time.Now, len(it.Phases))
	if err != nil || !res.Done || res.Cursor.Phase != itinerary.Completed {
		t.Errorf("%s: Run = %+v, %v; want Completed", sc.name, res, err)
	}
	want := make([]string, 0, len(applicable))
	for _, p := range applicable {
		want = append(want, p.Name)
	}
	if !slices.Equal(res.Completed, want) {
		t.Errorf("%s: ran %v, want %v", sc.name, res.Completed, want)
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update and review the diff):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	seen := map[string]bool{}
	for _, l := range w {
		if !slices.Contains(g, l) && !seen["-"+l] {
			seen["-"+l] = true
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) && !seen["+"+l] {
			seen["+"+l] = true
			b.WriteString("+ " + l + "\n")
		}
	}
	if b.Len() == 0 {
		return "(same lines, different order)"
	}
	return b.String()
}

// TestPhasesGolden makes sure no persisted phase name disappears: every name in
// testdata/phases.golden must still be a phase (or Completed), and every phase must be listed.
// -update adds new names and never removes one.
func TestPhasesGolden(t *testing.T) {
	current := []string{itinerary.Completed}
	for _, it := range testItineraries(t) {
		for _, p := range it.Phases {
			current = append(current, p.Name)
		}
	}
	path := filepath.Join("testdata", "phases.golden")
	raw, err := os.ReadFile(path)
	if err != nil && !*update {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var golden []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			golden = append(golden, l)
		}
	}
	for _, name := range golden {
		if !slices.Contains(current, name) {
			t.Errorf("phase %q is in %s but in no itinerary: phase names are persisted, never rename or remove one", name, path)
		}
	}
	added := false
	for _, name := range current {
		if !slices.Contains(golden, name) {
			if !*update {
				t.Errorf("phase %q is not in %s (run with -update)", name, path)
			}
			golden, added = append(golden, name), true
		}
	}
	if *update && added {
		slices.Sort(golden)
		golden = slices.Compact(golden)
		text := "# Every phase name a MigMigration may persist in status.phase. Never remove one.\n" + strings.Join(golden, "\n") + "\n"
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// knownSteps are MTC's pipeline step names, and WarmSync, Ferry's only step of its own (the
// warm passes of a cutover, which MTC does not have).
var knownSteps = []string{
	stepWarmSync, stepPrepare, stepPreBackupHooks, stepBackup, stepStageBackup, stepStageRestore, stepDirectImage,
	stepDirectVolume, stepPostBackupHooks, stepPreRestoreHooks, stepRestore, stepPostRestoreHooks, stepCleanup,
	stepCleanupVelero, stepCleanupHelpers, stepCleanupMigrated, stepCleanupUnquiesce, stepRollbackLiveMigration,
}

func TestItineraryInvariants(t *testing.T) {
	its := testItineraries(t)
	for _, name := range []string{StageItinerary, FinalItinerary, CancelItinerary, FailedItinerary, RollbackItinerary} {
		it, ok := its[name]
		if !ok || it.Name != name {
			t.Fatalf("itinerary %s missing or misnamed (%q)", name, it.Name)
		}
		if err := it.Validate(); err != nil { // unique names, a step and a step function each
			t.Error(err)
		}
		for _, p := range it.Phases {
			if !slices.Contains(knownSteps, p.Step) {
				t.Errorf("%s: phase %s has step %q, not a known one", name, p.Name, p.Step)
			}
			if phaseDescriptions[p.Name] == "" {
				t.Errorf("%s: phase %s has no description", name, p.Name)
			}
		}
	}
}

// sampleFacts returns the scenarios' facts plus random ones, for properties over all facts.
func sampleFacts() []Facts {
	var out []Facts
	for _, cases := range scenarios {
		for _, sc := range cases {
			out = append(out, sc.facts)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := reflect.TypeFor[Facts]().NumField()
	for range 2000 {
		var f Facts
		v := reflect.ValueOf(&f).Elem()
		for i := range n {
			v.Field(i).SetBool(r.IntN(2) == 1)
		}
		out = append(out, f)
	}
	return out
}

// TestStageIsSubsetOfFinal: every Stage phase is a Final phase, in Final's order, applying
// under the same facts (mig-controller's Test_Itineraries, made stronger).
func TestStageIsSubsetOfFinal(t *testing.T) {
	its := testItineraries(t)
	stage, final := its[StageItinerary], its[FinalItinerary]
	last := -1
	for _, p := range stage.Phases {
		i := final.Index(p.Name)
		if i <= last {
			t.Fatalf("Stage phase %s is not in Final after the previous Stage phase", p.Name)
		}
		last = i
		if p.Step != final.Phases[i].Step && p.Name != phaseCreateDirectImageMigration {
			t.Errorf("Stage phase %s has step %s, Final %s", p.Name, p.Step, final.Phases[i].Step)
		}
	}
	for _, f := range sampleFacts() {
		var fromFinal []string
		for _, p := range itinerary.Applicable(final, f) {
			if stage.Index(p.Name) >= 0 {
				fromFinal = append(fromFinal, p.Name)
			}
		}
		var got []string
		for _, p := range itinerary.Applicable(stage, f) {
			got = append(got, p.Name)
		}
		if !slices.Equal(got, fromFinal) {
			t.Fatalf("facts %+v: Stage runs %v, Final's Stage phases %v", f, got, fromFinal)
		}
	}
}

// TestMTCFixes pins the behaviour that deliberately differs from MTC (see doc.go).
func TestMTCFixes(t *testing.T) {
	its := testItineraries(t)
	names := func(it Itinerary, f Facts) []string {
		var out []string
		for _, p := range itinerary.Applicable(it, f) {
			out = append(out, p.Name)
		}
		return out
	}
	t.Run("Final creates the DVM only after quiesce", func(t *testing.T) {
		for _, f := range sampleFacts() {
			got := names(its[FinalItinerary], f)
			quiesced := slices.Index(got, phaseEnsureSrcQuiesced)
			for _, dvm := range []string{phaseCreateDirectVolumeMigrationStage, phaseCreateDirectVolumeMigrationFinal} {
				if i := slices.Index(got, dvm); i >= 0 && i < quiesced {
					t.Fatalf("facts %+v: %s before %s", f, dvm, phaseEnsureSrcQuiesced)
				}
			}
			if f.DirectVolume && f.EnableVolume {
				n := 0
				for _, dvm := range []string{phaseCreateDirectVolumeMigrationStage, phaseCreateDirectVolumeMigrationFinal} {
					if slices.Contains(got, dvm) {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("facts %+v: %d DVM creation phases, want 1", f, n)
				}
			}
		}
	})
	t.Run("Failed cleans up and unquiesces the source", func(t *testing.T) {
		got := names(its[FailedItinerary], with(indirect, Facts{Quiesce: true}))
		want := []string{
			phaseMigrationFailed, phaseDeleteRegistries, phaseEnsureStagePodsDeleted, phaseEnsureStagePodsTerminated,
			phaseEnsureAnnotationsDeleted, phaseUnQuiesceSrcApplications,
		}
		if !slices.Equal(got, want) {
			t.Errorf("Failed runs %v, want %v", got, want)
		}
	})
	t.Run("no itinerary restarts the source once the destination runs", func(t *testing.T) {
		f := with(direct, Facts{Quiesce: true, DestUnquiesced: true})
		for _, name := range []string{CancelItinerary, FailedItinerary} {
			if slices.Contains(names(its[name], f), phaseUnQuiesceSrcApplications) {
				t.Errorf("%s unquiesces the source after UnQuiesceDestApplications", name)
			}
		}
	})
}

func TestItinerariesPanicsWithoutStepFunction(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), phaseRestartVelero) {
			t.Errorf("recover() = %v, want a panic naming %s", r, phaseRestartVelero)
		}
	}()
	Itineraries(func(phase string) RunFunc {
		if phase == phaseRestartVelero {
			return nil
		}
		return done(phase)
	})
}
