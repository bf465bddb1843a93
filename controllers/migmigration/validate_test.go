package migmigration

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/settings"
)

var created = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// mig returns a migration of plan "p" created at t0 plus minutes.
func mig(name string, minutes int, spec migv1.MigMigrationSpec, conds ...string) migv1.MigMigration {
	spec.MigPlanRef = &corev1.ObjectReference{Name: "p"}
	m := migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(name),
		CreationTimestamp: metav1.NewTime(created.Add(time.Duration(minutes) * time.Minute))}, Spec: spec}
	for _, c := range conds {
		m.Status.Conditions = append(m.Status.Conditions, conditions.Advisory(c, "", ""))
	}
	return m
}

func readyPlan() *migv1.MigPlan {
	return &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
		Spec:   migv1.MigPlanSpec{Namespaces: []string{"a:b"}},
		Status: migv1.MigPlanStatus{Conditions: migv1.Conditions{conditions.Required(migv1.Ready, "", "")}}}
}

func typesOf(cs []migv1.Condition) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Type+"/"+c.Reason)
	}
	return strings.Join(out, ",")
}

func TestValidate(t *testing.T) {
	closed := readyPlan()
	closed.Spec.Closed = true
	notReady := readyPlan()
	notReady.Status.Conditions = nil
	renamed := readyPlan()
	renamed.Spec.PersistentVolumes = []migv1.PV{{PVC: migv1.PVC{Namespace: "a", Name: "data:data2"}, Selection: migv1.Selection{Action: migv1.PvCopyAction}}}
	intra := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "host"}, Spec: migv1.MigClusterSpec{IsHostCluster: true}}
	snapshot := readyPlan()
	snapshot.Spec.PersistentVolumes = []migv1.PV{{Name: "pv-1", PVC: migv1.PVC{Namespace: "a", Name: "data"},
		Selection: migv1.Selection{Action: migv1.PvCopyAction, CopyMethod: migv1.PvSnapshotCopyMethod}}}
	sameNames := readyPlan()
	sameNames.Spec.Namespaces = []string{"a:b", "b:c"}
	conversion := readyPlan()
	conversion.Spec.Namespaces = []string{"a"}
	copyPV := func(claim string) migv1.PV {
		return migv1.PV{PVC: migv1.PVC{Namespace: "a", Name: claim}, Selection: migv1.Selection{Action: migv1.PvCopyAction, CopyMethod: migv1.PvFilesystemCopyMethod}}
	}
	conversion.Spec.PersistentVolumes = []migv1.PV{copyPV("data:data-mig-abcd"), copyPV("logs:logs-mig-abcd")}
	ontoSource := conversion.DeepCopy()
	ontoSource.Spec.PersistentVolumes[1] = copyPV("logs:data")
	ontoOne := conversion.DeepCopy()
	ontoOne.Spec.PersistentVolumes[1] = copyPV("logs:data-mig-abcd")
	conversionFacts := &Facts{Stage: true, HasPVs: true, DirectVolume: true, EnableVolume: true, Quiesce: true, StorageConversion: true}

	cases := []struct {
		name      string
		m         migv1.MigMigration
		plan      *migv1.MigPlan
		src, dest *migv1.MigCluster
		facts     *Facts
		want      string
	}{
		{name: "no plan reference", m: migv1.MigMigration{}, want: "InvalidPlanRef/NotSet"},
		{name: "plan not found", m: mig("m", 0, migv1.MigMigrationSpec{}), want: "InvalidPlanRef/NotFound"},
		{name: "valid", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: readyPlan(), want: ""},
		{name: "closed plan", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: closed, want: "PlanClosed/"},
		{name: "plan not ready", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: notReady, want: "PlanNotReady/"},
		{name: "two modes", m: mig("m", 0, migv1.MigMigrationSpec{Stage: true, Rollback: true}), plan: readyPlan(), want: "InvalidSpec/NotSupported"},
		{name: "renamed PVC in a final migration", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: renamed, want: "InvalidSpec/NotSupported"},
		{name: "a snapshot copy", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: snapshot, want: "InvalidSpec/NotSupported"},
		{name: "renamed PVC in a state migration", m: mig("m", 0, migv1.MigMigrationSpec{MigrateState: true}), plan: renamed, want: ""},
		{name: "intra-cluster namespace clash", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: sameNames, src: intra, dest: intra, want: "InvalidSpec/NotSupported"},
		{name: "storage conversion", m: mig("m", 0, migv1.MigMigrationSpec{MigrateState: true, QuiescePods: true}), plan: conversion,
			src: intra, dest: intra, facts: conversionFacts, want: ""},
		{name: "storage conversion onto a source PVC", m: mig("m", 0, migv1.MigMigrationSpec{MigrateState: true}), plan: ontoSource,
			src: intra, dest: intra, facts: conversionFacts, want: "ConflictingPVCMappings/PvNameConflict"},
		{name: "storage conversion of two PVCs onto one", m: mig("m", 0, migv1.MigMigrationSpec{MigrateState: true}), plan: ontoOne,
			src: intra, dest: intra, facts: conversionFacts, want: "ConflictingPVCMappings/PvNameConflict"},
		{name: "direct volumes", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: readyPlan(),
			facts: &Facts{HasPVs: true, DirectVolume: true, EnableVolume: true}, want: ""},
		{name: "indirect volumes go through stage pods", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: readyPlan(),
			facts: &Facts{HasPVs: true, IndirectVolume: true, EnableVolume: true}, want: ""},
		{name: "direct image migration", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: readyPlan(),
			facts: &Facts{HasISs: true, DirectImage: true, EnableImage: true}, want: ""},
		{name: "indirect image migration is refused", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: readyPlan(),
			facts: &Facts{HasISs: true, IndirectImage: true, EnableImage: true}, want: "InvalidSpec/NotSupported"},
		{name: "hooks in a stage migration do not run", m: mig("m", 0, migv1.MigMigrationSpec{Stage: true}), plan: readyPlan(),
			facts: &Facts{Stage: true, HasPreBackupHooks: true}, want: ""},
		{name: "hooks in a final migration", m: mig("m", 0, migv1.MigMigrationSpec{}), plan: readyPlan(),
			facts: &Facts{HasPreBackupHooks: true}, want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := &observed{migration: &tc.m, plan: tc.plan, src: tc.src, dest: tc.dest, settings: settings.Defaults()}
			if got := typesOf(validate(o, tc.facts)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFinalMigration(t *testing.T) {
	final := migv1.MigMigrationSpec{}
	stage := migv1.MigMigrationSpec{Stage: true}
	rollback := migv1.MigMigrationSpec{Rollback: true}
	convert := migv1.MigMigrationSpec{MigrateState: true, QuiescePods: true}
	copyOnly := migv1.MigMigrationSpec{MigrateState: true}
	cases := []struct {
		name       string
		m          migv1.MigMigration
		siblings   []migv1.MigMigration
		conversion bool
		want       string
	}{
		{"stage after a running final", mig("s", 5, stage), []migv1.MigMigration{mig("f", 1, final, migv1.Running)}, false, "f"},
		{"stage after a failed final", mig("s", 5, stage), []migv1.MigMigration{mig("f", 1, final, migv1.Failed)}, false, "f"},
		{"stage after a canceled final", mig("s", 5, stage), []migv1.MigMigration{mig("f", 1, migv1.MigMigrationSpec{Canceled: true}, migv1.Failed)}, false, ""},
		{"stage after a stage", mig("s", 5, stage), []migv1.MigMigration{mig("s0", 1, stage, migv1.Succeeded)}, false, ""},
		{"final after a failed final", mig("f2", 5, final), []migv1.MigMigration{mig("f", 1, final, migv1.Failed)}, false, ""},
		{"final after a succeeded final", mig("f2", 5, final), []migv1.MigMigration{mig("f", 1, final, migv1.Succeeded)}, false, "f"},
		{"final after one with warnings", mig("f2", 5, final), []migv1.MigMigration{mig("f", 1, final, migv1.SucceededWithWarnings)}, false, "f"},
		{"a newer rollback resets the plan", mig("f2", 5, final), []migv1.MigMigration{
			mig("f", 1, final, migv1.Succeeded), mig("r", 2, rollback, migv1.Succeeded)}, false, ""},
		{"a rollback is never blocked", mig("r", 5, rollback), []migv1.MigMigration{mig("f", 1, final, migv1.Succeeded)}, false, ""},
		{"a conversion after a conversion that swapped the PVCs", mig("c2", 5, convert), []migv1.MigMigration{mig("c", 1, convert, migv1.Succeeded)}, true, "c"},
		{"a copy after a conversion that swapped the PVCs", mig("c2", 5, copyOnly), []migv1.MigMigration{mig("c", 1, convert, migv1.Succeeded)}, true, "c"},
		{"a conversion after a copy", mig("c2", 5, convert), []migv1.MigMigration{mig("c", 1, copyOnly, migv1.Succeeded)}, true, ""},
		{"a conversion after a rolled back conversion", mig("c2", 5, convert), []migv1.MigMigration{
			mig("c", 1, convert, migv1.Succeeded), mig("r", 2, rollback, migv1.Succeeded)}, true, ""},
		{"state migrations of a plan between clusters", mig("s2", 5, convert), []migv1.MigMigration{mig("s", 1, convert, migv1.Succeeded)}, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := finalMigration(&tc.m, append(tc.siblings, tc.m), tc.conversion); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAhead(t *testing.T) {
	done := mig("done", 1, migv1.MigMigrationSpec{})
	done.Status.Phase = itinerary.Completed
	running := mig("running", 2, migv1.MigMigrationSpec{})
	running.Status.Phase = "EnsureInitialBackup"
	blocked := mig("blocked", 3, migv1.MigMigrationSpec{})
	blocked.Status.Conditions = migv1.Conditions{conditions.Critical(migv1.InvalidSpec, "", "")}
	me := mig("me", 10, migv1.MigMigrationSpec{})
	later := mig("later", 11, migv1.MigMigrationSpec{})
	// A newer migration started while this older one was blocked by its own spec (F18).
	laterRunning := mig("later-running", 12, migv1.MigMigrationSpec{})
	laterRunning.Status.Phase = "WaitForDirectVolumeMigrationToComplete"
	cases := []struct {
		name     string
		siblings []migv1.MigMigration
		want     string
	}{
		{"alone", nil, ""},
		{"after a completed one", []migv1.MigMigration{done}, ""},
		{"after a running one", []migv1.MigMigration{done, running}, "running"},
		{"after one that cannot start", []migv1.MigMigration{blocked}, ""},
		{"before a later one", []migv1.MigMigration{later}, ""},
		{"before a later one that runs", []migv1.MigMigration{later, laterRunning}, "later-running"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ahead(&me, append(tc.siblings, me)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSelectItinerary(t *testing.T) {
	withErrors := mig("m", 0, migv1.MigMigrationSpec{Canceled: true})
	withErrors.Status.Errors = []string{"boom"}
	cases := []struct {
		m    migv1.MigMigration
		want string
	}{
		{mig("m", 0, migv1.MigMigrationSpec{}), FinalItinerary},
		{mig("m", 0, migv1.MigMigrationSpec{Stage: true}), StageItinerary},
		{mig("m", 0, migv1.MigMigrationSpec{MigrateState: true}), StageItinerary},
		{mig("m", 0, migv1.MigMigrationSpec{Rollback: true}), RollbackItinerary},
		{mig("m", 0, migv1.MigMigrationSpec{Canceled: true, Rollback: true}), CancelItinerary},
		{mig("m", 0, migv1.MigMigrationSpec{}, migv1.Canceling), CancelItinerary},
		{withErrors, FailedItinerary},
		{mig("m", 0, migv1.MigMigrationSpec{Canceled: true}, migv1.Failed), FailedItinerary},
	}
	for i, tc := range cases {
		if got := selectItinerary(&tc.m, false); got != tc.want {
			t.Errorf("case %d: got %s, want %s", i, got, tc.want)
		}
	}
	// A migration (or plan) going away is canceled, unless it is already cleaning up after a failure.
	for _, tc := range []struct {
		m    migv1.MigMigration
		want string
	}{
		{mig("m", 0, migv1.MigMigrationSpec{}), CancelItinerary},
		{mig("m", 0, migv1.MigMigrationSpec{Rollback: true}), CancelItinerary},
		{mig("m", 0, migv1.MigMigrationSpec{}, migv1.Failed), FailedItinerary},
	} {
		if got := selectItinerary(&tc.m, true); got != tc.want {
			t.Errorf("%v going away: got %s, want %s", tc.m.Status.Conditions, got, tc.want)
		}
	}
}

// TestValidateStarted: once a migration has started, what its plan says now must not stop it
// half-way (F8): a plan NotReady because a cluster flaps, a new conflicting plan, a closed
// plan, an ImageStream that appeared, a final migration of the plan. Only what makes running
// impossible is reported: the plan, a cluster or the storage gone.
func TestValidateStarted(t *testing.T) {
	started := func(spec migv1.MigMigrationSpec) migv1.MigMigration {
		m := mig("m", 10, spec)
		m.Status.Phase = "EnsureSrcQuiesced"
		return m
	}
	notReady := readyPlan()
	notReady.Status.Conditions = migv1.Conditions{conditions.Error(migv1.PlanConflict, migv1.Conflict, "conflict")}
	closed := readyPlan()
	closed.Spec.Closed = true
	cluster := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c"}}
	other := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "d"}}
	storage := &migv1.MigStorage{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"}}
	final := mig("final", 0, migv1.MigMigrationSpec{}, migv1.Succeeded)
	final.Status.Conditions[0].Status = migv1.True
	images := &Facts{DirectImage: true, EnableImage: true, HasISs: true}
	cases := []struct {
		name     string
		m        migv1.MigMigration
		plan     *migv1.MigPlan
		storage  *migv1.MigStorage
		siblings []migv1.MigMigration
		facts    *Facts
		want     string
	}{
		{name: "plan not ready", m: started(migv1.MigMigrationSpec{}), plan: notReady, storage: storage, want: ""},
		{name: "plan closed", m: started(migv1.MigMigrationSpec{}), plan: closed, storage: storage, want: ""},
		{name: "ImageStreams appeared", m: started(migv1.MigMigrationSpec{}), plan: readyPlan(), storage: storage, facts: images, want: ""},
		{name: "the plan has a final migration", m: started(migv1.MigMigrationSpec{Stage: true}), plan: readyPlan(), storage: storage,
			siblings: []migv1.MigMigration{final}, want: ""},
		{name: "the plan is gone", m: started(migv1.MigMigrationSpec{}), want: "InvalidPlanRef/NotFound"},
		{name: "the storage is gone", m: started(migv1.MigMigrationSpec{}), plan: readyPlan(), want: "PlanNotReady/NotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := &observed{migration: &tc.m, plan: tc.plan, src: cluster, dest: other, storage: tc.storage,
				siblings: append(tc.siblings, tc.m), settings: settings.Defaults()}
			if got := typesOf(validate(o, tc.facts)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestResumeTimer: time spent blocked is not counted against the current phase's timeout.
func TestResumeTimer(t *testing.T) {
	phaseStart := created
	blockedAt := created.Add(2 * time.Minute)
	now := created.Add(60 * time.Minute)
	blocker := conditions.Critical(migv1.PlanNotReady, "", "")
	blocker.LastTransitionTime = metav1.NewTime(blockedAt)
	old := conditions.Critical(migv1.PlanNotReady, "", "")
	old.LastTransitionTime = metav1.NewTime(created.Add(-time.Hour))
	warn := conditions.Warn(migv1.StageNoOp, "", "")
	warn.LastTransitionTime = metav1.NewTime(blockedAt)
	cur := itinerary.Cursor{Itinerary: FinalItinerary, Phase: "EnsureSrcQuiesced", PhaseStartedAt: phaseStart}
	for _, tc := range []struct {
		name string
		cur  itinerary.Cursor
		list migv1.Conditions
		want time.Time
	}{
		{"blocked for 58 minutes of the phase", cur, migv1.Conditions{blocker}, phaseStart.Add(58 * time.Minute)},
		{"not blocked", cur, migv1.Conditions{warn}, phaseStart},
		{"blocked before the phase began", cur, migv1.Conditions{old}, phaseStart},
		{"not started", itinerary.Cursor{}, migv1.Conditions{blocker}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := resumeTimer(tc.cur, tc.list, now).PhaseStartedAt; !got.Equal(tc.want) {
				t.Errorf("phase started at %s, want %s", got, tc.want)
			}
		})
	}
}

func TestComputeFacts(t *testing.T) {
	plan := readyPlan()
	plan.Spec.PersistentVolumes = []migv1.PV{
		{Selection: migv1.Selection{Action: migv1.PvCopyAction, CopyMethod: migv1.PvFilesystemCopyMethod}},
		{Selection: migv1.Selection{Action: migv1.PvSkipAction}},
	}
	plan.Spec.Hooks = []migv1.MigPlanHook{{Phase: migv1.HookPhasePostRestore}}
	remote := func(name, url string) *migv1.MigCluster {
		return &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: migv1.MigClusterSpec{URL: url}}
	}
	m := mig("m", 0, migv1.MigMigrationSpec{QuiescePods: true})
	f := computeFacts(factsInput{migration: &m, plan: plan, src: remote("a", "https://a"), dest: remote("b", "https://b"), settings: settings.Defaults()})
	want := Facts{Quiesce: true, HasPVs: true, DirectVolume: true, DirectImage: true, EnableVolume: true, EnableImage: true, HasPostRestoreHooks: true, WarmSync: true}
	if f != want {
		t.Errorf("got %+v\nwant %+v", f, want)
	}
	plan.Spec.IndirectVolumeMigration = true
	f = computeFacts(factsInput{migration: &m, plan: plan, src: remote("a", "https://a"), dest: remote("b", "https://b"), settings: settings.Defaults()})
	if f.DirectVolume || !f.IndirectVolume || !f.HasStageBackup || !f.HasStagePods {
		t.Errorf("indirect volumes: got %+v", f)
	}
}

func TestCancelCause(t *testing.T) {
	now := metav1.Now()
	deleted := func(m migv1.MigMigration) *migv1.MigMigration { m.DeletionTimestamp = &now; return &m }
	plan := readyPlan()
	closed := readyPlan()
	closed.Spec.Closed = true
	deletedPlan := readyPlan()
	deletedPlan.DeletionTimestamp = &now
	m := mig("m", 0, migv1.MigMigrationSpec{})
	for _, tc := range []struct {
		name string
		m    *migv1.MigMigration
		plan *migv1.MigPlan
		want string
	}{
		{"running", &m, plan, ""},
		{"deleted", deleted(m), plan, causeMigrationDeleted},
		{"deleted, plan gone", deleted(m), nil, causeMigrationDeleted},
		{"plan gone", &m, nil, ""},
		{"plan being deleted", &m, deletedPlan, causePlanDeleted},
		{"plan closed", &m, closed, causePlanClosed},
	} {
		if got := cancelCause(tc.m, tc.plan); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
