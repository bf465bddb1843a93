package migview

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		conds []string
		want  string
	}{
		{nil, ""},
		{[]string{migv1.Running}, ""},
		{[]string{migv1.Succeeded}, migv1.Succeeded},
		{[]string{migv1.SucceededWithWarnings}, migv1.SucceededWithWarnings},
		{[]string{migv1.Failed}, migv1.Failed},
		{[]string{migv1.Canceling, migv1.Canceled}, migv1.Canceled},
	} {
		m := &migv1.MigMigration{}
		for _, c := range tc.conds {
			m.Status.Conditions = append(m.Status.Conditions, migv1.Condition{Type: c, Status: migv1.True})
		}
		if got := Outcome(m); got != tc.want {
			t.Errorf("Outcome(%v) = %q, want %q", tc.conds, got, tc.want)
		}
	}
}

func TestKind(t *testing.T) {
	for _, tc := range []struct {
		spec      migv1.MigMigrationSpec
		itinerary string
		want      string
	}{
		{migv1.MigMigrationSpec{Stage: true}, "", "pending"},
		{migv1.MigMigrationSpec{Stage: true}, "Stage", "Stage"},
		{migv1.MigMigrationSpec{QuiescePods: true}, "Final", "Final"},
		{migv1.MigMigrationSpec{MigrateState: true}, "Stage", "State migration"},
		{migv1.MigMigrationSpec{MigrateState: true}, "Cancel", "Cancel"},
	} {
		m := &migv1.MigMigration{Spec: tc.spec, Status: migv1.MigMigrationStatus{Itinerary: tc.itinerary}}
		if got := Kind(m); got != tc.want {
			t.Errorf("Kind(%+v in %q) = %q, want %q", tc.spec, tc.itinerary, got, tc.want)
		}
	}
}

func TestEstimate(t *testing.T) {
	for _, tc := range []struct {
		percent int
		elapsed time.Duration
		want    time.Duration
		ok      bool
	}{
		{0, time.Minute, 0, false},
		{100, time.Minute, 0, false},
		{25, 30 * time.Second, 90 * time.Second, true},
		{50, 0, 0, false},
	} {
		got, ok := Estimate(tc.percent, tc.elapsed)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Estimate(%d, %s) = %s, %v; want %s, %v", tc.percent, tc.elapsed, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRefused(t *testing.T) {
	cond := func(typ, category string) migv1.Condition {
		return migv1.Condition{Type: typ, Status: migv1.True, Category: category}
	}
	for _, tc := range []struct {
		name  string
		phase string
		conds []migv1.Condition
		want  bool
	}{
		{"not reconciled yet", "", nil, false},
		{"waits its turn", "", []migv1.Condition{cond(migv1.Postponed, migv1.CategoryCritical)}, false},
		{"plan not ready yet", "", []migv1.Condition{cond(migv1.PlanNotReady, migv1.CategoryCritical)}, false},
		{"invalid spec", "", []migv1.Condition{cond(migv1.InvalidSpec, migv1.CategoryCritical)}, true},
		{"running with a warning", "Backup", []migv1.Condition{cond(migv1.InvalidSpec, migv1.CategoryCritical)}, false},
	} {
		m := &migv1.MigMigration{Status: migv1.MigMigrationStatus{Phase: tc.phase, Conditions: tc.conds}}
		if got := Refused(m); got != tc.want {
			t.Errorf("%s: refused = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestVolumeRowsOfAWarmSyncedCutover(t *testing.T) {
	at := func(s int) metav1.Time { return metav1.NewTime(time.Unix(int64(s), 0)) }
	pvcs := []migv1.PVCToMigrate{{ObjectReference: &corev1.ObjectReference{Namespace: "app", Name: "data"}}}
	dvm := func(name string, created int) migv1.DirectVolumeMigration {
		return migv1.DirectVolumeMigration{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: at(created)},
			Spec: migv1.DirectVolumeMigrationSpec{PersistentVolumeClaims: pvcs}}
	}
	m := &migv1.MigMigration{Status: migv1.MigMigrationStatus{References: []migv1.MigrationReference{
		{Role: migv1.ReferenceRoleWarmDirectVolumeMigration, Name: "m-dvmw1"},
		{Role: migv1.ReferenceRoleWarmDirectVolumeMigration, Name: "m-dvmw2"},
		{Role: "DirectVolumeMigration", Name: "m-dvm"},
	}}}
	none := func(string, string, string) *migv1.DirectVolumeMigrationProgress { return nil }
	names := func(rows []Volume) (out []string) {
		for _, r := range rows {
			out = append(out, r.PVC)
		}
		return out
	}
	if got := names(VolumeRows(m, []migv1.DirectVolumeMigration{dvm("m-dvmw2", 2), dvm("m-dvmw1", 1)}, none)); !slices.Equal(got, []string{"app/data (warm pass 2)"}) {
		t.Errorf("during pass 2: %q", got)
	}
	if got := names(VolumeRows(m, []migv1.DirectVolumeMigration{dvm("m-dvm", 3), dvm("m-dvmw1", 1), dvm("m-dvmw2", 2)}, none)); !slices.Equal(got, []string{"app/data"}) {
		t.Errorf("during the final copy: %q", got)
	}
}

func TestVolumeNumbers(t *testing.T) {
	progress := func(pct string, elapsed time.Duration) *migv1.DirectVolumeMigrationProgress {
		return &migv1.DirectVolumeMigrationProgress{Status: migv1.DirectVolumeMigrationProgressStatus{
			TotalProgressPercentage: pct,
			RsyncPodStatus: migv1.RsyncPodStatus{TransferredBytes: 42, LastObservedTransferRate: "1MB/s",
				ContainerElapsedTime: &metav1.Duration{Duration: elapsed}}}}
	}
	for _, tc := range []struct {
		name    string
		v       Volume
		percent int
		rate    string
		eta     time.Duration
		hasETA  bool
	}{
		{"no report yet", Volume{State: Pending}, 0, "", 0, false},
		{"running at a quarter", Volume{State: Running, Progress: progress("25%", 30*time.Second)}, 25, "1MB/s", 90 * time.Second, true},
		{"completed reads 100 whatever rsync said last", Volume{State: Completed, Progress: progress("97%", time.Minute)}, 100, "", 0, false},
		{"failed keeps its percent and shows no rate", Volume{State: Failed, Progress: progress("40%", time.Minute)}, 40, "", 0, false},
		{"a garbled percentage is 0", Volume{State: Running, Progress: progress("n/a", time.Minute)}, 0, "1MB/s", 0, false},
	} {
		eta, ok := tc.v.ETA()
		if got := tc.v.Percent(); got != tc.percent {
			t.Errorf("%s: percent %d, want %d", tc.name, got, tc.percent)
		}
		if got := tc.v.Rate(); got != tc.rate {
			t.Errorf("%s: rate %q, want %q", tc.name, got, tc.rate)
		}
		if eta != tc.eta || ok != tc.hasETA {
			t.Errorf("%s: ETA %s %v, want %s %v", tc.name, eta, ok, tc.eta, tc.hasETA)
		}
	}
}

func TestImageRows(t *testing.T) {
	dim := migv1.DirectImageMigration{Status: migv1.DirectImageMigrationStatus{
		NewISs:        []*migv1.ImageStreamListItem{{ObjectReference: &corev1.ObjectReference{Namespace: "a", Name: "web"}, Progress: &migv1.ImageCopyProgress{CopiedImages: 1, TotalImages: 4, CopiedBytes: 10}}},
		SuccessfulISs: []*migv1.ImageStreamListItem{{ObjectReference: &corev1.ObjectReference{Namespace: "a", Name: "db"}}, {}},
	}}
	rows := ImageRows(dim)
	if len(rows) != 2 || rows[0].Name != "a/web" || rows[0].Percent() != 25 || rows[1].Percent() != 100 || rows[1].State != Completed {
		t.Errorf("rows %+v", rows)
	}
}
