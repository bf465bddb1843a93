package console

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/migview"
)

func TestMigrationView(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-ago)); return &t }
	half := &migv1.DirectVolumeMigrationProgress{Status: migv1.DirectVolumeMigrationProgressStatus{TotalProgressPercentage: "50%",
		RsyncPodStatus: migv1.RsyncPodStatus{TransferredBytes: 500_000_000, LastObservedTransferRate: "50.00MB/s",
			ContainerElapsedTime: &metav1.Duration{Duration: 10 * time.Second}}}}
	running := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Name: "m"}, Status: migv1.MigMigrationStatus{Itinerary: "Final", Phase: "WaitForDVM",
		Conditions: migv1.Conditions{{Type: "SourcePodsNotHealthy", Status: migv1.True, Category: migv1.CategoryWarn, Message: "1 pod crashes"}},
		Pipeline: []*migv1.Step{
			{Name: "Prepare", Started: at(30 * time.Second), Completed: at(28 * time.Second)},
			{Name: "DirectVolume", Phase: "WaitForDVM", Started: at(10 * time.Second)},
			{Name: "Restore"},
		}}}
	d := migrationView(running, []migview.Volume{{PVC: "shop/data", State: migview.Running, Progress: half}, {PVC: "shop/logs", State: migview.Completed}}, nil, now)
	if d.Ended || d.Failure != nil || d.Kind != "Final" || len(d.Notices) != 1 {
		t.Errorf("header %+v", d)
	}
	steps := map[string]stepRow{}
	for _, s := range d.Steps {
		steps[s.Name] = s
	}
	if s := steps["Prepare"]; s.State != migview.StepDone || s.Duration != "2s" || s.Started != "" {
		t.Errorf("Prepare %+v", s)
	}
	dv := steps["DirectVolume"]
	if dv.State != migview.StepRunning || dv.Duration != "10s" || dv.Started == "" || dv.Phase != "WaitForDVM" || len(dv.Volumes) != 2 {
		t.Fatalf("DirectVolume %+v", dv)
	}
	if b := dv.Volumes[0]; b.Percent != 50 || b.Bytes != "500MB" || b.Rate != "50.00MB/s" || b.ETA != "10s" {
		t.Errorf("running bar %+v", b)
	}
	if b := dv.Volumes[1]; b.Percent != 100 || b.Rate != "" || b.ETA != "" {
		t.Errorf("completed bar %+v", b)
	}
	if s := steps["Restore"]; s.State != migview.StepPending || s.Duration != "" || s.Volumes != nil {
		t.Errorf("Restore %+v", s)
	}

	failed := running.DeepCopy()
	failed.Status.Pipeline[1].Failed, failed.Status.Pipeline[1].Message = true, "rsync exited 23"
	failed.Status.Errors = []string{"rsync: permission denied"}
	failed.Status.Conditions = append(failed.Status.Conditions, migv1.Condition{Type: migv1.Failed, Status: migv1.True, Reason: "DirectVolumeMigrationFailed", Message: "failed"})
	d = migrationView(failed, nil, nil, now)
	if !d.Ended || d.Outcome != migv1.Failed || d.Failure == nil {
		t.Fatalf("failed view %+v", d)
	}
	if f := d.Failure; f.Step != "DirectVolume" || f.StepMessage != "rsync exited 23" || f.Reason != "DirectVolumeMigrationFailed" || !strings.Contains(strings.Join(f.Errors, ""), "permission denied") {
		t.Errorf("failure %+v", f)
	}
}

func TestImagesOnTheDirectImageStep(t *testing.T) {
	m := &migv1.MigMigration{Status: migv1.MigMigrationStatus{Pipeline: []*migv1.Step{{Name: "DirectImage", Started: &metav1.Time{Time: time.Now()}}}}}
	dim := migv1.DirectImageMigration{Status: migv1.DirectImageMigrationStatus{}}
	d := migrationView(m, nil, []migv1.DirectImageMigration{dim}, time.Now())
	if len(d.Steps[0].Images) != 0 {
		t.Errorf("images without streams: %+v", d.Steps[0].Images)
	}
}
