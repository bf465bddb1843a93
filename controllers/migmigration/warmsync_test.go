package migmigration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// TestWarmSyncPredicate: warm passes run in a Final cutover that copies volumes with a DVM and
// quiesces the applications, with the setting on; nowhere else.
func TestWarmSyncPredicate(t *testing.T) {
	on := with(direct, Facts{Quiesce: true, WarmSync: true})
	cases := []struct {
		name  string
		facts Facts
		want  bool
	}{
		{"direct cutover, quiesced, setting on", on, true},
		{"setting off", with(direct, Facts{Quiesce: true}), false},
		{"not quiesced: the cutover's DVM already runs beside the applications", with(direct, Facts{WarmSync: true}), false},
		{"no DVM volumes", with(noPVs, Facts{Quiesce: true, WarmSync: true}), false},
		{"indirect volumes", with(indirect, Facts{Quiesce: true, WarmSync: true}), false},
		{"persistentvolumes excluded", Facts{HasPVs: true, DirectVolume: true, Quiesce: true, WarmSync: true}, false},
		{"stage", with(on, Facts{Stage: true}), false},
		{"rollback", with(on, Facts{Rollback: true}), false},
		{"KubeVirt live migration", with(on, Facts{LiveVMMigration: true}), false},
	}
	for _, tc := range cases {
		if got := warmSync(tc.facts); got != tc.want {
			t.Errorf("%s: warmSync = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestWarmSyncFact: the fact follows enable_warm_sync, on by default.
func TestWarmSyncFact(t *testing.T) {
	m := mig("m", 0, migv1.MigMigrationSpec{QuiescePods: true})
	off, on := false, true
	for _, tc := range []struct {
		spec *migv1.MigrationControllerSpec
		want bool
	}{{nil, true}, {&migv1.MigrationControllerSpec{EnableWarmSync: &off}, false}, {&migv1.MigrationControllerSpec{EnableWarmSync: &on}, true}} {
		f := computeFacts(factsInput{migration: &m, plan: readyPlan(), settings: settings.FromSpec(tc.spec)})
		if f.WarmSync != tc.want {
			t.Errorf("settings %+v: WarmSync = %v, want %v", tc.spec, f.WarmSync, tc.want)
		}
	}
}

// TestNextWarmPass is the pass rule: repeat while a pass changed much and less than the one
// before, up to warmMaxPasses.
func TestNextWarmPass(t *testing.T) {
	big := func(mib int64, copying time.Duration) warmPass {
		return warmPass{Bytes: mib << 20, Files: 10, Copying: copying, Measured: true}
	}
	cases := []struct {
		name   string
		passes []warmPass
		again  bool
		why    string
	}{
		{"no pass yet", nil, true, "no pass yet"},
		{"first pass copied a lot", []warmPass{big(1024, time.Minute)}, true, "pass 1 changed 1.0 GiB in 10 files"},
		{"small delta", []warmPass{big(1024, time.Minute), big(10, 3*time.Second)}, false, "pass 2 changed little (10.0 MiB in 10 files)"},
		{"exactly the threshold is small", []warmPass{{Bytes: warmSmallBytes, Files: warmSmallFiles, Copying: time.Minute, Measured: true}}, false, "changed little"},
		{"few bytes in many files is not small", []warmPass{{Bytes: 1 << 20, Files: 50000, Copying: time.Minute, Measured: true}}, true, "pass 1 changed"},
		{"quick copy of a large delta", []warmPass{big(500, 2*time.Second)}, false, "pass 1 copied in 2s"},
		{"shrinking", []warmPass{big(1024, time.Minute), big(600, 30*time.Second)}, true, "pass 2 changed 600.0 MiB"},
		{"not shrinking: the applications write as fast as a pass copies", []warmPass{big(400, 20*time.Second), big(350, 18*time.Second)}, false, "changed about as much as pass 1"},
		{"growing", []warmPass{big(400, 20*time.Second), big(800, 40*time.Second)}, false, "changed about as much"},
		{"fewer files, same bytes, shrinks", []warmPass{{Bytes: 400 << 20, Files: 40000, Copying: time.Minute, Measured: true}, {Bytes: 400 << 20, Files: 2000, Copying: 30 * time.Second, Measured: true}}, true, "pass 2 changed"},
		{"pass limit", []warmPass{big(5000, time.Hour), big(3000, 30*time.Minute), big(2000, 20*time.Minute), big(1000, 10*time.Minute), big(500, 5*time.Minute)}, false, "5 passes is the most"},
		{"not measured", []warmPass{big(1024, time.Minute), {Bytes: 1 << 30, Copying: time.Minute}}, false, "pass 2 could not be measured"},
	}
	for _, tc := range cases {
		again, why := nextWarmPass(tc.passes)
		if again != tc.again || !strings.Contains(why, tc.why) {
			t.Errorf("%s: nextWarmPass = %v, %q; want %v, containing %q", tc.name, again, why, tc.again, tc.why)
		}
	}
}

// statsLog is the log message the DVM controller keeps for a successful attempt: rsync's
// statistics lines (transfer.StatsLines).
func statsLog(files, bytes int64) string {
	return fmt.Sprintf("Number of regular files transferred: %d\nTotal file size: 2,000,000,000 bytes\nTotal transferred file size: %d bytes\nLiteral data: %d bytes", files, bytes, bytes)
}

func dvmp(name string, st migv1.DirectVolumeMigrationProgressStatus) migv1.DirectVolumeMigrationProgress {
	return migv1.DirectVolumeMigrationProgress{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: st}
}

func succeeded(files, bytes int64, elapsed time.Duration) migv1.DirectVolumeMigrationProgressStatus {
	return migv1.DirectVolumeMigrationProgressStatus{
		RsyncPodStatus:   migv1.RsyncPodStatus{PodName: "p", PodPhase: corev1.PodSucceeded, LogMessage: statsLog(files, bytes)},
		RsyncElapsedTime: &metav1.Duration{Duration: elapsed},
	}
}

// TestMeasureWarmPass: a pass's delta is the sum of rsync's transferred file sizes over its
// volumes, its copy time the longest volume's; a volume without a successful attempt leaves
// the pass unmeasured.
func TestMeasureWarmPass(t *testing.T) {
	retried := succeeded(0, 0, 0)
	retried.RsyncPodStatus = migv1.RsyncPodStatus{PodName: "p2", PodPhase: corev1.PodFailed, LogMessage: "rsync error", TransferredBytes: 30}
	retried.RsyncPodStatuses = []migv1.RsyncPodStatus{{PodName: "p1", PodPhase: corev1.PodSucceeded, LogMessage: statsLog(2, 5000)}}
	// A running application's vanished file failed the first attempt after it had moved most
	// of the delta; the retry only finished it.
	vanished := succeeded(1, 2_000_000, 10*time.Second)
	vanished.PodName = "p2"
	vanished.RsyncPodStatuses = []migv1.RsyncPodStatus{
		{PodName: "p1", PodPhase: corev1.PodFailed, LogMessage: "rsync exited with code 24", TransferredBytes: 160_000_000},
		vanished.RsyncPodStatus,
	}
	noStats := migv1.DirectVolumeMigrationProgressStatus{RsyncPodStatus: migv1.RsyncPodStatus{PodPhase: corev1.PodSucceeded, TransferredBytes: 777}}
	running := migv1.DirectVolumeMigrationProgressStatus{RsyncPodStatus: migv1.RsyncPodStatus{PodPhase: corev1.PodRunning, TransferredBytes: 1}}
	cases := []struct {
		name    string
		dvmps   []migv1.DirectVolumeMigrationProgress
		volumes int
		want    warmPass
	}{
		{"two volumes", []migv1.DirectVolumeMigrationProgress{
			dvmp("a", succeeded(3, 10_485_760, 4*time.Second)), dvmp("b", succeeded(1, 1_000, 9*time.Second))}, 2,
			warmPass{Bytes: 10_486_760, Files: 4, Copying: 9 * time.Second, Measured: true}},
		{"an earlier attempt succeeded, a later one failed", []migv1.DirectVolumeMigrationProgress{dvmp("a", retried)}, 1, warmPass{Bytes: 5030, Files: 2, Measured: true}},
		{"a failed attempt's bytes count", []migv1.DirectVolumeMigrationProgress{dvmp("a", vanished)}, 1,
			warmPass{Bytes: 162_000_000, Files: 1, Copying: 10 * time.Second, Measured: true}},
		{"no statistics: the progress bytes", []migv1.DirectVolumeMigrationProgress{dvmp("a", noStats)}, 1, warmPass{Bytes: 777, Measured: true}},
		{"a volume still running", []migv1.DirectVolumeMigrationProgress{dvmp("a", succeeded(1, 1, 0)), dvmp("b", running)}, 2, warmPass{Bytes: 1, Files: 1}},
		{"a volume's progress is missing", []migv1.DirectVolumeMigrationProgress{dvmp("a", succeeded(1, 1, 0))}, 2, warmPass{Bytes: 1, Files: 1}},
		{"no volumes", nil, 0, warmPass{}},
	}
	for _, tc := range cases {
		if got := measureWarmPass(tc.dvmps, tc.volumes); got != tc.want {
			t.Errorf("%s: measureWarmPass = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestWarmSyncPasses drives the warm sync steps over a client: pass 1 is recorded before it
// is created, followed while it runs, measured when it completes; a large delta records and
// creates pass 2, whose small delta ends warm sync. The pipeline lines and events say so.
func TestWarmSyncPasses(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := migv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&migv1.DirectVolumeMigration{}, &migv1.DirectVolumeMigrationProgress{}).Build()
	plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "p", UID: "plan-1"}, Spec: migv1.MigPlanSpec{
		Namespaces: []string{"a"},
		PersistentVolumes: []migv1.PV{{PVC: migv1.PVC{Namespace: "a", Name: "data"},
			Selection: migv1.Selection{Action: migv1.PvCopyAction, CopyMethod: migv1.PvFilesystemCopyMethod}}},
	}}
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "m", UID: "mig-1"}, Spec: migv1.MigMigrationSpec{QuiescePods: true}}
	s := &Scope{Migration: m, Plan: plan, Now: time.Now, Settings: warmOn(), phase: phaseCreateDirectVolumeMigrationWarm}
	recorder := events.NewFakeRecorder(10)
	r := &Reconciler{Client: c, HostDirect: c, Recorder: recorder}

	step := func(run RunFunc, phase string) itinerary.Outcome {
		t.Helper()
		s.phase = phase
		out, err := run(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		return out
	}
	if out := step(r.createWarmSync, phaseCreateDirectVolumeMigrationWarm); out.Done || s.warmPasses() != 1 {
		t.Fatalf("first call: %+v, %d passes recorded; want the pass recorded before its DVM exists", out, s.warmPasses())
	}
	dvmList := &migv1.DirectVolumeMigrationList{}
	if err := c.List(ctx, dvmList); err != nil || len(dvmList.Items) != 0 {
		t.Fatalf("DVMs before the reference was persisted: %d, %v", len(dvmList.Items), err)
	}
	if out := step(r.createWarmSync, phaseCreateDirectVolumeMigrationWarm); !out.Done {
		t.Fatalf("second call: %+v, want done", out)
	}
	first := &migv1.DirectVolumeMigration{}
	if err := c.Get(ctx, s.warmKey(1), first); err != nil {
		t.Fatalf("pass 1: %v", err)
	}
	if *first.Spec.MigrationType != migv1.MigrationTypeStage || first.Labels[directVolumeLabel] != "mig-1" || first.Labels[migratedByPlanLabel] != "plan-1" {
		t.Errorf("pass 1 DVM: type %s, labels %v; want a Stage DVM labelled like the final one", *first.Spec.MigrationType, first.Labels)
	}

	wait := func() itinerary.Outcome {
		return step(r.waitForWarmSync, phaseWaitForDirectVolumeMigrationWarmToComplete)
	}
	if out := wait(); out.Done || out.RequeueAfter == 0 || out.Progress == nil {
		t.Fatalf("pass 1 running: %+v, want a watched wait", out)
	}
	complete := func(dvm *migv1.DirectVolumeMigration, files, bytes int64) {
		t.Helper()
		p := &migv1.DirectVolumeMigrationProgress{ObjectMeta: metav1.ObjectMeta{Namespace: dvm.Namespace, Name: dvm.Name + "-data",
			Labels: map[string]string{transfer.LabelDVM: string(dvm.UID)}}}
		if err := c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		p.Status = succeeded(files, bytes, 20*time.Second)
		if err := c.Status().Update(ctx, p); err != nil {
			t.Fatal(err)
		}
		dvm.Status.Phase = dvmPhaseCompleted
		if err := c.Status().Update(ctx, dvm); err != nil {
			t.Fatal(err)
		}
	}
	first.UID = "dvm-1"
	if err := c.Update(ctx, first); err != nil {
		t.Fatal(err)
	}
	complete(first, 40, 300<<20)
	if out := wait(); out.Done || s.warmPasses() != 2 {
		t.Fatalf("after a 300 MiB pass: %+v, %d passes; want pass 2 recorded", out, s.warmPasses())
	}
	if out := wait(); out.Done {
		t.Fatalf("pass 2 created: %+v, want waiting", out)
	}
	second := &migv1.DirectVolumeMigration{}
	if err := c.Get(ctx, s.warmKey(2), second); err != nil {
		t.Fatalf("pass 2: %v", err)
	}
	if second.Name == first.Name {
		t.Fatalf("pass 2 reuses pass 1's name %s", first.Name)
	}
	complete(second, 2, 10<<20)
	if out := wait(); !out.Done {
		t.Fatalf("after a 10 MiB pass: %+v, want warm sync done", out)
	}
	lines := strings.Join(s.progress[phaseWaitForDirectVolumeMigrationWarmToComplete], "\n")
	for _, want := range []string{"Warm sync pass 1: 300.0 MiB in 40 files", "Warm sync pass 2: 10.0 MiB in 2 files", "Warm sync done after 2 passes"} {
		if !strings.Contains(lines, want) {
			t.Errorf("progress lines %q lack %q", lines, want)
		}
	}
	close(recorder.Events)
	var got []string
	for e := range recorder.Events {
		got = append(got, e)
	}
	if len(got) != 2 || !strings.Contains(got[0], reasonWarmSyncPass) || !strings.Contains(got[1], reasonWarmSyncDone) {
		t.Errorf("events %q, want one per pass", got)
	}
	if err := c.List(ctx, dvmList, client.MatchingLabels{directVolumeLabel: "mig-1"}); err != nil || len(dvmList.Items) != 2 {
		t.Errorf("DVMs of the migration: %d, %v; want the two passes, which Cancel deletes by this label", len(dvmList.Items), err)
	}
}

// warmOn are the default settings with enable_warm_sync: true.
func warmOn() settings.Settings {
	on := true
	return settings.FromSpec(&migv1.MigrationControllerSpec{EnableWarmSync: &on})
}
