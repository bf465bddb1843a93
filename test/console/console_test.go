package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/install"
	"github.com/ferrymtc/ferry/test/migenv"
	"github.com/ferrymtc/ferry/test/suite"
)

// failHook is the image of a hook that fails, as a process node runs it.
const failHook = "hooks.example/fail:1"

// artifactsDir is where screenshots go: $FERRY_ARTIFACTS/console, else a directory that
// outlives the test (its path is logged).
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("FERRY_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "ferry-console-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

func TestConsoleInABrowser(t *testing.T) {
	suite.Configure()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	start := time.Now()
	env, err := migenv.Start(ctx, migenv.Options{Entrypoints: map[string][]string{
		failHook: {"sh", "-c", "echo 'cannot reach the database' >&2; exit 3"},
	}})
	if err != nil {
		t.Fatalf("start the clusters: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("operator log tail:\n%s", env.OperatorLogTail(6000))
		}
	})
	t.Logf("clusters up in %s", time.Since(start).Round(time.Second))

	console, err := install.DeployConsole(ctx, env.Destination, env.DestinationNode(), env.OperatorImage())
	if err != nil {
		t.Fatalf("deploy config/console: %v", err)
	}
	t.Cleanup(func() { _ = console.Close() })
	url := console.URL
	t.Logf("console at %s (forwarded to its pod)", url)
	adminToken, err := env.Destination.MintToken(ctx, "console-e2e", "admin", "cluster-admin")
	must(t, err)
	sourceToken, err := install.RemoteToken(ctx, env.Source, install.Source)
	must(t, err)
	appWithVolume(ctx, t, env.Source, "webshop")
	prepareHookAccount(ctx, t, env.Source)

	b := newBrowser(ctx, t, url, artifactsDir(t))

	// Log in; the skip link is the first thing the keyboard reaches.
	b.run("log in", time.Minute, b.visit("/login"), setValue("#token", adminToken), click(`form[action="/login"] button`),
		waitFor(`nav a[aria-current="page"][href="/clusters"]`))
	b.run("keyboard", 10*time.Second, chromedp.KeyEvent("\t"))
	focused, _ := get(b, chromedp.Evaluate[string](`document.activeElement.className`))
	if focused != "skip" {
		t.Errorf("the first Tab focuses %q, want the skip link", focused)
	}

	// The source cluster, through the form; its Ready comes live.
	ca := string(env.Source.CABundle()) + "\n" + string(env.SourceRegistry.CAPEM)
	b.run("add the source cluster", 3*time.Minute,
		fill("#c-name", "ui-source"), fill("#c-url", env.Source.URL()), setValue("#c-token", sourceToken), setValue("#c-ca", ca),
		fill("#c-registry", env.SourceRegistry.Address), click(`#add-cluster button[type=submit]`),
		waitFor(`#cluster-ui-source[data-ready="true"]`))
	b.screenshot("1-clusters")

	b.run("add the repository", 3*time.Minute, b.visit("/storages"),
		fill("#s-name", "ui-storage"), fill("#s-bucket", migenv.Bucket), fill("#s-endpoint", env.Store.Endpoint), fill("#s-region", env.Store.Region),
		fill("#s-access", env.Store.AccessKey), fill("#s-secret", env.Store.SecretKey), click(`#add-storage button[type=submit]`),
		waitFor(`#storage-ui-storage[data-ready="true"]`))
	b.screenshot("2-storages")

	// The wizard: the source's namespaces as the admin sees them, webshop mapped to
	// webshop-new; then the volume renamed on the plan's page.
	b.run("build a plan", 3*time.Minute, b.visit("/plans"),
		setValue("#p-source", "ui-source"), click(`#choose-source button`),
		waitFor(`tr[data-namespace="webshop"]`), click("#ns-webshop"), fill("#dest-webshop", "webshop-new"), fill("#p-name", "webshop"),
		setValue("#p-destination", fixtures.HostCluster), setValue("#p-storage", "ui-storage"))
	b.screenshot("3-plan-wizard")
	b.run("create the plan", 3*time.Minute, click(`#create-plan button[type=submit]`),
		waitFor(`#plan-status[data-ready="true"]`), waitFor(`tr[data-pvc="webshop/data"]`))
	b.run("rename the volume", 3*time.Minute, fill("#rename-0", "data-renamed"), click(`#volumes button[type=submit]`),
		waitFor(`#rename-0[value="data-renamed"]`), waitFor(`#plan-status[data-ready="true"]`))
	b.screenshot("4-plan")
	plan := &migv1.MigPlan{}
	must(t, env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: migenv.Namespace, Name: "webshop"}, plan))
	if got := plan.Spec.Namespaces; len(got) != 1 || got[0] != "webshop:webshop-new" {
		t.Errorf("the plan's namespaces: %v", got)
	}
	if pvs := plan.Spec.PersistentVolumes; len(pvs) != 1 || pvs[0].PVC.Name != "data:data-renamed" {
		t.Errorf("the plan's volumes: %+v", pvs)
	}
	// As MTC, Ferry copies a renamed PVC only in a state migration: a stage is refused, and
	// the migration's page says why as soon as the operator does. Canceled from the page, then
	// the state migration the plan's page offers copies it.
	b.run("stage with a renamed volume", 3*time.Minute, click(`#migrate button[value="stage"]`),
		waitFor(`#notices li[data-condition="InvalidSpec"]`))
	b.screenshot("5-stage-refused")
	// The operator leaves a migration it refused as it is (no phase to wind down) and lets the
	// next one of the plan run; the page shows the cancel was asked for.
	b.run("cancel the refused stage", 3*time.Minute, click("#cancel"), waitFor(`#cancel[disabled]`))

	migrateAndWatch := func(kind, shot string) {
		t.Helper()
		startMigration(t, b, "webshop", kind, func() map[string]bool { return planMigrations(ctx, t, env.Destination, "webshop") })
		seen := watchBar(b, "webshop/data", 5*time.Minute)
		b.run("wait for the "+kind+"'s end", 5*time.Minute, waitFor(`#phase[data-outcome^="Succeeded"]`))
		outcome, _ := get(b, chromedp.Evaluate[string](`document.querySelector('#phase').dataset.outcome`))
		b.screenshot(shot)
		if len(seen) == 0 || seen[len(seen)-1] != "100" {
			t.Errorf("the %s's volume bar showed %v, want it to end at 100", kind, seen)
		}
		t.Logf("%s: %s; the bar showed %v", kind, outcome, seen)
	}
	// The state migration copies the volume into the renamed claim.
	migrateAndWatch("state", "6-state-migration")
	if err := env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: "webshop-new", Name: "data-renamed"}, &corev1.PersistentVolumeClaim{}); err != nil {
		t.Errorf("the renamed claim on the destination after the state migration: %v", err)
	}
	b.run("keep the volume's name", 3*time.Minute, b.visit("/plans/webshop"), fill("#rename-0", ""), click(`#volumes button[type=submit]`),
		waitFor(`#rename-0[value=""]`), waitFor(`#plan-status[data-ready="true"]`))

	migrateAndWatch("stage", "7-stage")
	migrateAndWatch("cutover", "8-cutover")
	b.run("narrow window", time.Minute, chromedp.EmulateViewport(420, 800))
	if overflow, err := get(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); err != nil || overflow {
		t.Errorf("the migration page scrolls sideways at 420 pixels")
	}
	b.screenshot("9-cutover-narrow")
	b.run("wide window", time.Minute, chromedp.EmulateViewport(1280, 800))
	if err := env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: "webshop-new", Name: "data"}, &corev1.PersistentVolumeClaim{}); err != nil {
		t.Errorf("the claim in the mapped namespace on the destination: %v", err)
	}

	// A plan whose hook fails: the failure view names the step and the hook's words.
	appWithoutVolume(ctx, t, env.Source, "hookfail")
	b.run("plan with a failing hook", 3*time.Minute, b.visit("/plans?source=ui-source"),
		waitFor(`tr[data-namespace="hookfail"]`), click("#ns-hookfail"), fill("#p-name", "hookfail"),
		setValue("#p-destination", fixtures.HostCluster), setValue("#p-storage", "ui-storage"),
		click(`#create-plan button[type=submit]`), waitFor(`#plan-status[data-ready="true"]`),
		fill("#h-name", "fails"), fill("#h-image", failHook), setValue("#h-phase", migv1.HookPhasePostBackup),
		setValue("#h-target", "source"), fill("#h-ns", hookNamespace), fill("#h-sa", hookAccount),
		click(`#add-hook button[type=submit]`), waitFor(`#hooks li`), waitFor(`#plan-status[data-ready="true"]`))
	startMigration(t, b, "hookfail", "cutover", func() map[string]bool { return planMigrations(ctx, t, env.Destination, "hookfail") })
	b.run("cut over and fail", 5*time.Minute, waitFor(`#phase[data-outcome="Failed"]`), waitFor("#failure"))
	failure, _ := get(b, chromedp.Text(chromedp.CSS("#failure")))
	b.screenshot("10-failed-migration")
	if !strings.Contains(failure, "cannot reach the database") || !strings.Contains(failure, "Failed step") {
		t.Errorf("the failure view says:\n%s", failure)
	}
	for _, page := range []string{"migrations", "settings"} {
		b.run("visit "+page, time.Minute, b.visit("/"+page), waitFor("#live"))
		b.screenshot("11-" + page)
	}
	t.Logf("whole test %s", time.Since(start).Round(time.Second))
}

// watchBar reads the volume bar's percent from the page (the live region updates it) until
// it reaches 100 or the migration ends, and returns the distinct values seen.
func watchBar(b *browser, pvc string, timeout time.Duration) []string {
	b.t.Helper()
	var seen []string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		percent, _ := get(b, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector('.bar[data-bar=%q]')||{dataset:{}}).dataset.percent||""`, pvc)))
		outcome, _ := get(b, chromedp.Evaluate[string](`(document.querySelector('#phase')||{dataset:{}}).dataset.outcome||""`))
		if percent != "" && (len(seen) == 0 || seen[len(seen)-1] != percent) {
			seen = append(seen, percent)
		}
		if percent == "100" || outcome == migv1.Failed || outcome == migv1.Canceled {
			return seen
		}
		time.Sleep(100 * time.Millisecond)
	}
	return seen
}

// Hooks run in the operator's namespace (the operator refuses others but the migrated ones),
// as the service account runner.
const (
	hookNamespace = migenv.Namespace
	hookAccount   = "runner"
)

// prepareHookAccount creates the service account hooks run as on the source.
func prepareHookAccount(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane) {
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hookNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: hookNamespace, Name: hookAccount}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: hookNamespace, Name: hookAccount},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: hookNamespace, Name: hookAccount}}},
	} {
		must(t, client.IgnoreAlreadyExists(cp.Client.Create(ctx, obj)))
	}
}

// appWithoutVolume creates namespace name with a Deployment web of one pod.
func appWithoutVolume(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, name string) {
	labels := map[string]string{"app": "web"}
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "web", Labels: labels}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				TerminationGracePeriodSeconds: ptr.To[int64](5),
				Containers: []corev1.Container{{Name: "web", Image: "registry.example/web:1",
					Command: []string{"sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"}}},
			}}}},
	} {
		must(t, cp.Client.Create(ctx, obj))
	}
}

// appWithVolume creates the app of appWithoutVolume with a 1Gi volume "data" holding ten
// files, mounted by its pod, as test/migration's apps have.
func appWithVolume(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, name string) {
	dir := t.TempDir()
	must(t, os.Chmod(dir, 0o755))
	for i := range 10 {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%02d", i)), []byte(strings.Repeat(fmt.Sprintf("content %d\n", i), 1000)), 0o644)) //nolint:gosec // test data.
	}
	appWithoutVolume(ctx, t, cp, name)
	pv, pvc := fixtures.BoundVolume(name, "data", "pv-"+name, "1Gi")
	pv.Spec.Local.Path = dir
	must(t, cp.Client.Create(ctx, pv))
	must(t, cp.Client.Create(ctx, pvc))
	d := &appsv1.Deployment{}
	must(t, cp.Client.Get(ctx, client.ObjectKey{Namespace: name, Name: "web"}, d))
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	d.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	must(t, cp.Client.Patch(ctx, d, patch))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := &appsv1.Deployment{}
		must(t, cp.Client.Get(ctx, client.ObjectKeyFromObject(d), got))
		if got.Status.ReadyReplicas == 1 && got.Status.UpdatedReplicas == 1 && got.Status.Replicas == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app %s does not run: %+v", name, got.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// startMigration clicks the plan page's button for kind until the migration's page shows, as
// a user whose click did not take would click again: the button is disabled while the plan is
// not Ready, and the plan's status may change between the page's Ready and the click. A
// migration the click did create is never started twice: before clicking again, the test
// looks for it and opens its page.
func startMigration(t *testing.T, b *browser, plan, kind string, migrations func() map[string]bool) {
	t.Helper()
	before := migrations()
	button := fmt.Sprintf(`#migrate button[value=%q]:not([disabled])`, kind)
	for attempt := 1; attempt <= 3; attempt++ {
		b.run("open the plan to start the "+kind, time.Minute, b.visit("/plans/"+plan), waitFor(`#plan-status[data-ready="true"]`))
		if b.try(30*time.Second, click(button), waitFor(`#pipeline-heading`)) {
			return
		}
		for name := range migrations() {
			if !before[name] {
				t.Logf("the %s %s started, but its page did not open: opening it", kind, name)
				b.run("open the "+kind, time.Minute, b.visit("/migrations/"+name), waitFor(`#pipeline-heading`))
				return
			}
		}
		t.Logf("attempt %d: the %s button's click started no migration; clicking again", attempt, kind)
	}
	b.run("start the "+kind, time.Second, waitFor(`#pipeline-heading`))
}

// planMigrations are the names of the plan's migrations.
func planMigrations(ctx context.Context, t *testing.T, host *controlplane.ControlPlane, plan string) map[string]bool {
	t.Helper()
	list := &migv1.MigMigrationList{}
	must(t, host.Client.List(ctx, list, client.InNamespace(migenv.Namespace)))
	out := map[string]bool{}
	for _, m := range list.Items {
		if m.Spec.MigPlanRef != nil && m.Spec.MigPlanRef.Name == plan {
			out[m.Name] = true
		}
	}
	return out
}
