package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/migview"
)

func TestRenderViewShowsStepsAndBars(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-ago)); return &t }
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Name: "shop-cutover"},
		Spec: migv1.MigMigrationSpec{MigPlanRef: &corev1.ObjectReference{Name: "shop"}},
		Status: migv1.MigMigrationStatus{Itinerary: "Final", Phase: "WaitForDirectVolumeMigrationToComplete", Pipeline: []*migv1.Step{
			{Name: "Prepare", Started: at(30 * time.Second), Completed: at(28 * time.Second)},
			{Name: "DirectVolume", Phase: "WaitForDirectVolumeMigrationToComplete", Started: at(10 * time.Second)},
			{Name: "Restore"},
		}}}
	half := &migv1.DirectVolumeMigrationProgress{Status: migv1.DirectVolumeMigrationProgressStatus{
		TotalProgressPercentage: "50%",
		RsyncPodStatus: migv1.RsyncPodStatus{TransferredBytes: 500_000_000, LastObservedTransferRate: "50.00MB/s",
			ContainerElapsedTime: &metav1.Duration{Duration: 10 * time.Second}}}}
	st := viewState{migration: m, volumes: []migview.Volume{
		{PVC: "shop/data", State: "Running", Progress: half},
		{PVC: "shop/logs", State: "Completed"},
		{PVC: "shop/cache", State: "Pending"},
	}}
	got := strings.Join(renderView(st, now, true), "\n")
	for _, want := range []string{
		"Migration shop-cutover (plan shop, Final): WaitForDirectVolumeMigrationToComplete",
		"[done]    Prepare                      2s",
		"[running] DirectVolume                10s  WaitForDirectVolumeMigrationToComplete",
		"shop/data                    [############............]  50%  500MB  50.00MB/s  ETA 10s  Running",
		"shop/logs                    [########################] 100%  Completed",
		"shop/cache                   [........................]   0%  Pending",
		"[ ]       Restore",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("view lacks %q:\n%s", want, got)
		}
	}
	plain := strings.Join(renderView(st, now, false), "\n")
	if strings.Contains(plain, "DirectVolume                10s") {
		t.Errorf("plain output shows a running clock, which would print the line every second:\n%s", plain)
	}
}

func TestPlainScreenPrintsEachChangeOnce(t *testing.T) {
	var out bytes.Buffer
	s := newScreen(&out, false, nil)
	s.draw([]string{"Migration m (plan p, Final): Prepare", "  [running] Prepare"})
	s.draw([]string{"Migration m (plan p, Final): Prepare", "  [running] Prepare"})
	s.draw([]string{"Migration m (plan p, Final): Backup", "  [done]    Prepare   2s"})
	want := "Migration m (plan p, Final): Prepare\n  [running] Prepare\nMigration m (plan p, Final): Backup\n  [done]    Prepare   2s\n"
	if out.String() != want {
		t.Errorf("plain output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestTerminalScreenFitsLinesToTheWidth checks that a redraw moves up exactly the rows the
// previous frame took: a line longer than the terminal is cut, not wrapped onto a second row.
func TestTerminalScreenFitsLinesToTheWidth(t *testing.T) {
	var out bytes.Buffer
	s := newScreen(&out, true, func() int { return 20 })
	long := "  RsyncServerPodsRunningAsNonRoot: the transfer runs as non-root"
	s.draw([]string{"Migration m", long})
	first := out.String()
	if want := "\r\x1b[2KMigration m\n\r\x1b[2K  RsyncServerPodsR…\n"; first != want {
		t.Errorf("first frame %q, want %q", first, want)
	}
	for _, l := range strings.Split(strings.TrimSuffix(first, "\n"), "\n") {
		if n := len([]rune(strings.TrimPrefix(l, "\r\x1b[2K"))); n >= 20 {
			t.Errorf("row %q takes %d columns of 20", l, n)
		}
	}
	out.Reset()
	s.draw([]string{"Migration m"})
	if want := "\x1b[2A\r\x1b[2KMigration m\n\r\x1b[2K\n"; out.String() != want {
		t.Errorf("second frame %q, want %q", out.String(), want)
	}
}

func TestVolumeFlags(t *testing.T) {
	pvs := []migv1.PV{
		{PVC: migv1.PVC{Namespace: "shop", Name: "data"}, Selection: migv1.Selection{Action: migv1.PvCopyAction}},
		{PVC: migv1.PVC{Namespace: "shop", Name: "logs"}, Selection: migv1.Selection{Action: migv1.PvCopyAction}},
	}
	v := volumeFlags{skip: []string{"shop/logs"}, rename: []string{"shop/data:data-new"},
		storageClass: []string{"shop/data=fast"}, copyMethod: []string{"shop/data=filesystem"}, verify: true}
	if err := v.parse(); err != nil {
		t.Fatal(err)
	}
	if err := v.apply(pvs); err != nil {
		t.Fatal(err)
	}
	if pvs[0].PVC.Name != "data:data-new" || pvs[0].Selection.StorageClass != "fast" || !pvs[0].Selection.Verify ||
		pvs[0].Selection.CopyMethod != "filesystem" || pvs[1].Selection.Action != migv1.PvSkipAction {
		t.Errorf("selections not applied: %+v", pvs)
	}
	for _, bad := range []volumeFlags{
		{skip: []string{"data"}},
		{rename: []string{"shop/data"}},
		{copyMethod: []string{"shop/data=teleport"}},
	} {
		if err := bad.parse(); err == nil {
			t.Errorf("%+v parsed without error", bad)
		}
	}
	typo := volumeFlags{skip: []string{"shop/dat"}}
	if err := typo.parse(); err != nil {
		t.Fatal(err)
	}
	if err := typo.apply(pvs); err == nil || !strings.Contains(err.Error(), "shop/dat") {
		t.Errorf("a PVC the plan lacks must be an error naming it, got %v", err)
	}
}

func TestMigrationName(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 1, 2, 0, time.UTC)
	if got := migrationName("shop", "stage", now); got != "shop-stage-20261206-100102" {
		t.Errorf("migrationName = %q", got)
	}
	if got := migrationName(strings.Repeat("p", 70), "cutover", now); len(got) > 63 {
		t.Errorf("migrationName is %d characters, more than a label value takes", len(got))
	}
}
