package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/scheme"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{
		"12.00MB/s": 12 << 20, "512.00kB/s": 512 << 10, "1.50GB/s": 1.5 * (1 << 30), "100B/s": 100, "3.00MB/s": 3 << 20,
	} {
		if got, ok := ParseRate(in); !ok || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "fast", "-1MB/s"} {
		if _, ok := ParseRate(bad); ok {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}

func TestOutcome(t *testing.T) {
	cond := func(t string) migv1.Conditions { return migv1.Conditions{{Type: t, Status: migv1.True}} }
	for _, c := range []struct {
		phase string
		conds migv1.Conditions
		want  string
	}{
		{"", nil, "pending"},
		{"EnsureInitialBackup", nil, "running"},
		{"Completed", cond(migv1.Succeeded), "succeeded"},
		{"Completed", cond(migv1.SucceededWithWarnings), "succeeded_with_warnings"},
		{"EnsureStagePodsDeleted", cond(migv1.Failed), "running"}, // the Failed itinerary still runs
		{"Completed", cond(migv1.Failed), "failed"},
		{"Completed", append(cond(migv1.Canceled), cond(migv1.Failed)...), "canceled"},
	} {
		m := &migv1.MigMigration{Status: migv1.MigMigrationStatus{Phase: c.phase, Conditions: c.conds}}
		if got := Outcome(m); got != c.want {
			t.Errorf("phase %q conditions %v: %s, want %s", c.phase, c.conds, got, c.want)
		}
	}
}

// TestObjects: the scrape-time metrics read the objects as they are.
func TestObjects(t *testing.T) {
	ns := "openshift-migration"
	c := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(
		&migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "a"},
			Status: migv1.MigMigrationStatus{Phase: "EnsureInitialBackup"}},
		&migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b"},
			Status: migv1.MigMigrationStatus{Phase: "Completed", Conditions: migv1.Conditions{{Type: migv1.Succeeded, Status: migv1.True}}}},
		&migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "host"},
			Status: migv1.MigClusterStatus{Conditions: migv1.Conditions{{Type: migv1.Ready, Status: migv1.True}}}},
		&migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "remote"}},
		&migv1.DirectVolumeMigrationProgress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p",
			Annotations: map[string]string{transfer.AnnotationPVC: "shop/data"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "DirectVolumeMigration", Name: "dvm-1", APIVersion: "migration.openshift.io/v1alpha1",
				UID: "u", Controller: ptr.To(true)}}},
			Spec: migv1.DirectVolumeMigrationProgressSpec{PodNamespace: "shop"},
			Status: migv1.DirectVolumeMigrationProgressStatus{RsyncPodStatus: migv1.RsyncPodStatus{
				TransferredBytes: 4096, LastObservedTransferRate: "2.00MB/s"}}},
	).Build()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(objects{reader: c}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP ferry_cluster_ready 1 when the MigCluster is Ready (its API server reachable with its token), else 0.
# TYPE ferry_cluster_ready gauge
ferry_cluster_ready{cluster="host",namespace="openshift-migration"} 1
ferry_cluster_ready{cluster="remote",namespace="openshift-migration"} 0
# HELP ferry_migrations MigMigrations by outcome (pending, running, succeeded, succeeded_with_warnings, failed, canceled) and current phase.
# TYPE ferry_migrations gauge
ferry_migrations{outcome="running",phase="EnsureInitialBackup"} 1
ferry_migrations{outcome="succeeded",phase="Completed"} 1
# HELP ferry_volume_transfer_rate_bytes_per_second rsync's last reported transfer rate for a PVC of a DirectVolumeMigration.
# TYPE ferry_volume_transfer_rate_bytes_per_second gauge
ferry_volume_transfer_rate_bytes_per_second{dvm="dvm-1",namespace="openshift-migration",pvc="data",pvc_namespace="shop"} 2.097152e+06
# HELP ferry_volume_transferred_bytes Bytes rsync transferred for a PVC of a DirectVolumeMigration (current or last attempt).
# TYPE ferry_volume_transferred_bytes gauge
ferry_volume_transferred_bytes{dvm="dvm-1",namespace="openshift-migration",pvc="data",pvc_namespace="shop"} 4096
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestDashboardUsesKnownMetrics: every query of the shipped Grafana dashboard names metrics
// that exist, so the dashboard cannot drift from the code.
func TestDashboardUsesKnownMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "grafana", "ferry-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{
		"cam_app_workload_migrations": true, "controller_runtime_reconcile_errors_total": true,
		"controller_runtime_reconcile_total": true,
	}
	reg := prometheus.NewRegistry()
	if err := Register(reg, fake.NewClientBuilder().WithScheme(scheme.New()).Build()); err != nil {
		t.Fatal(err)
	}
	descs := make(chan *prometheus.Desc, 64)
	for _, c := range append(observations(), objects{}) {
		c.Describe(descs)
	}
	close(descs)
	for d := range descs {
		name := regexp.MustCompile(`fqName: "([^"]+)"`).FindStringSubmatch(d.String())[1]
		known[name] = true
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			known[name+suffix] = true
		}
	}
	metric := regexp.MustCompile(`\b(ferry_[a-z_]+|cam_[a-z_]+|controller_runtime_[a-z_]+)\b`)
	if len(dash.Panels) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			names := metric.FindAllString(target.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no metric", p.Title, target.Expr)
			}
			for _, n := range names {
				if !known[n] {
					t.Errorf("panel %q: unknown metric %s", p.Title, n)
				}
			}
		}
	}
}
