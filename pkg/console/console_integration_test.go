package console

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/controlplane"
)

const testNS = "openshift-migration"

// browser is a user's browser: a cookie jar and the last page's CSRF token.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	jar, _ := cookiejar.New(nil)
	// A client of its own: srv.Client() is shared, and each user has their own cookies.
	c := *srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, base: srv.URL, http: &c}
}

// get returns the status and body of a page, remembering its CSRF token.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.http.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

// post submits a form with the session's CSRF token and returns the status, the redirect
// target and the body.
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.t.Helper()
	form = cloneValues(form)
	if form.Get("csrf") == "" && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

func (b *browser) login(token string) {
	b.t.Helper()
	status, loc, body := b.post("/login", url.Values{"token": {token}})
	if status != http.StatusSeeOther || loc != "/clusters" {
		b.t.Fatalf("login: %d %s %s", status, loc, body)
	}
	b.get("/clusters")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestConsoleActsAsTheUser runs the console against a real host API server and a real remote
// one with two identities: an admin, and alice, who may work with the migration objects,
// read the remote cluster's token Secret and view namespace team-a only. Reads and writes go
// as the logged-in user (alice is refused what RBAC refuses her, although the console is
// given the admin's config, whose credentials it must drop), the wizard shows alice team-a
// but not team-b, and the migration page's live region follows watches made as the user.
func TestConsoleActsAsTheUser(t *testing.T) {
	host := controlplane.StartForTest(t, "console-host")
	remote := controlplane.StartForTest(t, "console-remote")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin := host.Client

	for _, cp := range []*controlplane.ControlPlane{host, remote} {
		for _, ns := range []string{testNS, SecretNamespace, "team-a", "team-b"} {
			must(t, client.IgnoreAlreadyExists(cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})))
		}
	}
	adminToken, err := host.MintToken(ctx, "console-test", "admin", "cluster-admin")
	must(t, err)
	aliceToken, err := host.MintToken(ctx, "console-test", "alice", "")
	must(t, err)
	// The remote cluster's token may list its namespaces, as config/rbac/remote/source's role may.
	must(t, remote.Client.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "namespace-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list"}}}}))
	remoteToken, err := remote.MintToken(ctx, "ferry", "reader", "namespace-reader")
	must(t, err)
	grant := func(ns, role, kind string) {
		must(t, admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "alice-"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "console-test", Name: "alice"}}}))
	}
	must(t, admin.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "migrator"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{migv1.GroupVersion.Group}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch"}}}}))
	grant(testNS, "migrator", "Role")
	// What "view" grants on a namespace (these control planes run no aggregation controller,
	// so the built-in view role is empty here).
	must(t, admin.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "team-viewer"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces", "pods", "persistentvolumeclaims"}, Verbs: []string{"get", "list", "watch"}}}}))
	grant("team-a", "team-viewer", "ClusterRole")

	server, err := New(Options{Config: host.Config, Namespace: testNS})
	must(t, err)
	srv := httptest.NewTLSServer(server)
	defer func() {
		// The event streams stay open until their clients go.
		srv.CloseClientConnections()
		srv.Close()
	}()

	t.Run("login", func(t *testing.T) {
		b := newBrowser(t, srv)
		if status, _ := b.get("/clusters"); status != http.StatusSeeOther {
			t.Errorf("a page without a session: %d, want a redirect to the login page", status)
		}
		if status, _, body := b.post("/login", url.Values{"token": {"not-a-token"}}); status != http.StatusUnauthorized || !strings.Contains(body, "does not accept this token") {
			t.Errorf("a wrong token: %d %s", status, body)
		}
		b.login(aliceToken)
		if _, body := b.get("/clusters"); !strings.Contains(body, "system:serviceaccount:console-test:alice") {
			t.Errorf("the page does not name the user:\n%s", body)
		}
		cookies := b.http.Jar.Cookies(mustURL(t, srv.URL))
		if len(cookies) != 1 || strings.Contains(cookies[0].Value, aliceToken[:20]) {
			t.Errorf("the session cookie holds the token in clear: %v", cookies)
		}
	})

	adminB := newBrowser(t, srv)
	adminB.login(adminToken)
	alice := newBrowser(t, srv)
	alice.login(aliceToken)

	t.Run("CSRF", func(t *testing.T) {
		form := url.Values{"name": {"x"}, "csrf": {"wrong"}}
		if status, _, _ := alice.post("/clusters", form); status != http.StatusForbidden {
			t.Errorf("a POST with a wrong CSRF token: %d, want 403", status)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/plans", strings.NewReader(url.Values{"csrf": {alice.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := alice.http.Do(req)
		must(t, err)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a POST from another origin: %d, want 403", resp.StatusCode)
		}
	})

	clusterForm := url.Values{"name": {"remote"}, "url": {remote.URL()}, "token": {remoteToken}, "ca": {string(remote.CABundle())}}
	t.Run("adding a cluster as a user RBAC refuses", func(t *testing.T) {
		status, _, body := alice.post("/clusters", clusterForm)
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "forbidden") {
			t.Errorf("alice may not create Secrets in openshift-config, yet: %d %s", status, body)
		}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: testNS, Name: "remote"}, &migv1.MigCluster{}); err == nil {
			t.Errorf("alice's refused form created the MigCluster")
		}
	})

	var tokenSecret string
	t.Run("adding a cluster as the admin", func(t *testing.T) {
		status, loc, body := adminB.post("/clusters", clusterForm)
		if status != http.StatusSeeOther {
			t.Fatalf("add cluster: %d %s", status, body)
		}
		if loc != "/clusters#cluster-remote" {
			t.Errorf("redirect to %s", loc)
		}
		mc := &migv1.MigCluster{}
		must(t, admin.Get(ctx, client.ObjectKey{Namespace: testNS, Name: "remote"}, mc))
		ref := mc.Spec.ServiceAccountSecretRef
		if ref == nil || ref.Namespace != SecretNamespace || mc.Spec.URL != remote.URL() {
			t.Fatalf("MigCluster spec %+v", mc.Spec)
		}
		secret := &corev1.Secret{}
		must(t, admin.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, secret))
		if string(secret.Data[migv1.SaTokenKey]) != remoteToken {
			t.Errorf("the token Secret holds %q", secret.Data[migv1.SaTokenKey])
		}
		tokenSecret = ref.Name
		// The host cluster: no URL, no token, no Secret.
		if status, _, body := adminB.post("/clusters", url.Values{"name": {"host"}, "host": {"on"}}); status != http.StatusSeeOther {
			t.Fatalf("add the host cluster: %d %s", status, body)
		}
		host := &migv1.MigCluster{}
		must(t, admin.Get(ctx, client.ObjectKey{Namespace: testNS, Name: "host"}, host))
		if !host.Spec.IsHostCluster || host.Spec.ServiceAccountSecretRef != nil {
			t.Errorf("host MigCluster spec %+v", host.Spec)
		}
	})
	// alice may read that one Secret: the remote cluster's namespaces are listed with it.
	must(t, admin.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: SecretNamespace, Name: "remote-token"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{tokenSecret}, Verbs: []string{"get"}}}}))
	grant(SecretNamespace, "remote-token", "Role")

	t.Run("adding a repository", func(t *testing.T) {
		status, _, body := adminB.post("/storages", url.Values{"name": {"s3"}, "bucket": {"ferry"}, "endpoint": {"https://s3.example:9000"}, "accessKey": {"AK"}, "secretKey": {"SK"}})
		if status != http.StatusSeeOther {
			t.Fatalf("add storage: %d %s", status, body)
		}
		ms := &migv1.MigStorage{}
		must(t, admin.Get(ctx, client.ObjectKey{Namespace: testNS, Name: "s3"}, ms))
		if ms.Spec.BackupStorageConfig.CredsSecretRef == nil || !ms.Spec.BackupStorageConfig.AwsS3ForcePathStyle {
			t.Errorf("MigStorage spec %+v", ms.Spec)
		}
	})

	namespacesOf := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`data-namespace="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	t.Run("the wizard shows each user the namespaces RBAC lets them see", func(t *testing.T) {
		_, body := adminB.get("/plans?source=remote")
		if got := namespacesOf(body); !containsAll(got, "team-a", "team-b") {
			t.Errorf("the admin sees %v, want team-a and team-b", got)
		}
		_, body = alice.get("/plans?source=remote")
		if got := namespacesOf(body); len(got) != 1 || got[0] != "team-a" {
			t.Errorf("alice sees %v of the remote cluster, want only team-a\n%s", got, body)
		}
		_, body = alice.get("/plans?source=host")
		if got := namespacesOf(body); len(got) != 0 || !strings.Contains(body, "You may not list the namespaces") {
			t.Errorf("alice, who may not list the host's namespaces, sees %v", got)
		}
		_, body = adminB.get("/plans?source=host")
		if got := namespacesOf(body); !containsAll(got, "team-a", "team-b") || containsAll(got, testNS) {
			t.Errorf("the admin sees %v of the host", got)
		}
	})

	var migration string
	t.Run("alice builds a plan and stages it", func(t *testing.T) {
		status, loc, body := alice.post("/plans", url.Values{"name": {"shop"}, "source": {"remote"}, "destination": {"host"}, "storage": {"s3"},
			"ns": {"team-a"}, "dest-team-a": {"team-a-new"}})
		if status != http.StatusSeeOther || loc != "/plans/shop" {
			t.Fatalf("create plan: %d %s %s", status, loc, body)
		}
		plan := &migv1.MigPlan{}
		must(t, admin.Get(ctx, client.ObjectKey{Namespace: testNS, Name: "shop"}, plan))
		if len(plan.Spec.Namespaces) != 1 || plan.Spec.Namespaces[0] != "team-a:team-a-new" {
			t.Errorf("plan namespaces %v", plan.Spec.Namespaces)
		}
		// What the operator's plan controller would add: the namespace's volume.
		plan.Spec.PersistentVolumes = []migv1.PV{{Name: "pv-1", Capacity: resource.MustParse("1Gi"),
			PVC:       migv1.PVC{Namespace: "team-a", Name: "data"},
			Supported: migv1.Supported{Actions: []string{"copy"}, CopyMethods: []string{"filesystem", "snapshot"}},
			Selection: migv1.Selection{Action: "copy", CopyMethod: "filesystem"}}}
		must(t, admin.Update(ctx, plan))

		_, body = alice.get("/plans/shop")
		if !strings.Contains(body, `data-pvc="team-a/data"`) {
			t.Fatalf("the plan page lacks the volume:\n%s", body)
		}
		status, _, body = alice.post("/plans/shop/volumes", url.Values{"pv-0": {"pv-1"}, "action-0": {"copy"}, "copyMethod-0": {"filesystem"},
			"storageClass-0": {"fast"}, "rename-0": {"data-new"}, "verify-0": {"on"}})
		if status != http.StatusSeeOther {
			t.Fatalf("save volumes: %d %s", status, body)
		}
		must(t, admin.Get(ctx, client.ObjectKey{Namespace: testNS, Name: "shop"}, plan))
		if sel := plan.Spec.PersistentVolumes[0]; sel.PVC.Name != "data:data-new" || sel.Selection.StorageClass != "fast" || !sel.Selection.Verify {
			t.Errorf("the volume after saving: %+v", sel)
		}

		status, loc, body = alice.post("/plans/shop/migrate", url.Values{"kind": {"stage"}})
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/migrations/shop-stage-") {
			t.Fatalf("stage: %d %s %s", status, loc, body)
		}
		migration = strings.TrimPrefix(loc, "/migrations/")
		m := &migv1.MigMigration{}
		must(t, admin.Get(ctx, client.ObjectKey{Namespace: testNS, Name: migration}, m))
		if !m.Spec.Stage || m.Spec.MigPlanRef.Name != "shop" {
			t.Errorf("migration spec %+v", m.Spec)
		}
	})

	t.Run("the migration page follows the migration live, through the user's watches", func(t *testing.T) {
		events := alice.stream(ctx, "/events?view=migration&name="+migration)
		first := events.next(t, 10*time.Second)
		if !strings.Contains(first, "waiting for the operator") {
			t.Errorf("first event: %s", first)
		}
		m := &migv1.MigMigration{}
		must(t, admin.Get(ctx, client.ObjectKey{Namespace: testNS, Name: migration}, m))
		started := metav1.NewTime(time.Now().Add(-20 * time.Second))
		m.Status.Phase, m.Status.Itinerary = "WaitForDirectVolumeMigrationToComplete", "Stage"
		m.Status.Pipeline = []*migv1.Step{{Name: "Prepare", Started: &started, Completed: &started}, {Name: "DirectVolume", Started: &started, Phase: "WaitForDirectVolumeMigrationToComplete"}}
		must(t, admin.Status().Update(ctx, m))
		dvm := &migv1.DirectVolumeMigration{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: migration + "-dvm",
			Labels: map[string]string{migv1.DirectVolumeMigrationLabel: string(m.UID)}},
			Spec: migv1.DirectVolumeMigrationSpec{PersistentVolumeClaims: []migv1.PVCToMigrate{{ObjectReference: &corev1.ObjectReference{Namespace: "team-a", Name: "data"},
				TargetAccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}}}}}
		must(t, admin.Create(ctx, dvm))
		dvm.Status.RunningPods = []*migv1.PodProgress{{PVCReference: &corev1.ObjectReference{Namespace: "team-a", Name: "data"}}}
		must(t, admin.Status().Update(ctx, dvm))
		progress := &migv1.DirectVolumeMigrationProgress{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: transfer.ProgressName(dvm.Name, "data", "team-a")}}
		must(t, admin.Create(ctx, progress))
		progress.Status.TotalProgressPercentage = "50%"
		progress.Status.TransferredBytes = 500_000_000
		progress.Status.LastObservedTransferRate = "50.00MB/s"
		progress.Status.ContainerElapsedTime = &metav1.Duration{Duration: 10 * time.Second}
		must(t, admin.Status().Update(ctx, progress))
		got := events.until(t, 10*time.Second, `data-bar="team-a/data" data-percent="50"`)
		for _, want := range []string{`data-step="DirectVolume" data-state="running"`, "50.00MB/s", "ETA 10s", "500MB"} {
			if !strings.Contains(got, want) {
				t.Errorf("the live region lacks %q:\n%s", want, got)
			}
		}

		m.Status.Phase = "Completed"
		m.Status.Errors = []string{"hook pre-backup failed: cannot reach the database"}
		m.Status.Pipeline[1].Failed = true
		m.Status.Pipeline[1].Message = "rsync exited 23"
		m.Status.Conditions = migv1.Conditions{{Type: migv1.Failed, Status: migv1.True, Category: migv1.CategoryAdvisory, Reason: "DirectVolumeMigrationFailed", Message: "The migration failed"}}
		must(t, admin.Status().Update(ctx, m))
		got = events.until(t, 10*time.Second, `id="failure"`)
		for _, want := range []string{`id="failed-step">DirectVolume: rsync exited 23`, "DirectVolumeMigrationFailed", "cannot reach the database"} {
			if !strings.Contains(got, want) {
				t.Errorf("the failure view lacks %q:\n%s", want, got)
			}
		}
	})

	t.Run("cancel sets spec.canceled as the user", func(t *testing.T) {
		if status, _, body := alice.post("/migrations/"+migration+"/cancel", url.Values{}); status != http.StatusSeeOther {
			t.Fatalf("cancel: %d %s", status, body)
		}
		m := &migv1.MigMigration{}
		must(t, admin.Get(ctx, client.ObjectKey{Namespace: testNS, Name: migration}, m))
		if !m.Spec.Canceled {
			t.Errorf("spec.canceled is not set")
		}
	})

	t.Run("settings change only what the form changed", func(t *testing.T) {
		mc := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": migv1.GroupVersion.String(), "kind": "MigrationController",
			"metadata": map[string]any{"namespace": testNS, "name": "migration-controller"},
			"spec":     map[string]any{"mig_pv_limit": "100", "olm_managed": true},
		}}
		must(t, admin.Create(ctx, mc))
		_, body := alice.get("/settings")
		if !strings.Contains(body, `id="set-mig_pv_limit" name="mig_pv_limit" value="100"`) {
			t.Fatalf("the settings page does not show mig_pv_limit's value:\n%s", body)
		}
		form := url.Values{}
		for _, st := range settingsDoc {
			form.Set(st.Key, "")
		}
		form.Set("mig_pv_limit", "100")
		form.Set("mig_namespace_limit", "25")
		form.Set("enable_dvm_pv_resizing", "true")
		if status, _, body := alice.post("/settings", form); status != http.StatusSeeOther {
			t.Fatalf("save settings: %d %s", status, body)
		}
		must(t, admin.Get(ctx, client.ObjectKeyFromObject(mc), mc))
		spec, _, _ := unstructured.NestedMap(mc.Object, "spec")
		if spec["mig_namespace_limit"] != int64(25) || spec["enable_dvm_pv_resizing"] != true || spec["mig_pv_limit"] != "100" || spec["olm_managed"] != true {
			t.Errorf("spec after saving: %v", spec)
		}
	})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func mustURL(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	must(t, err)
	return u
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		if !contains(list, w) {
			return false
		}
	}
	return true
}

// eventStream reads a server-sent events stream.
type eventStream struct{ data chan string }

func (b *browser) stream(ctx context.Context, path string) *eventStream {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	b.t.Cleanup(func() { _ = resp.Body.Close() })
	s := &eventStream{data: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				s.data <- line
			}
		}
		close(s.data)
	}()
	return s
}

func (s *eventStream) next(t *testing.T, wait time.Duration) string {
	t.Helper()
	select {
	case d, ok := <-s.data:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return unescapeJSON(d)
	case <-time.After(wait):
		t.Fatalf("no event in %s", wait)
	}
	return ""
}

// until returns the first event containing want.
func (s *eventStream) until(t *testing.T, wait time.Duration, want string) string {
	t.Helper()
	deadline := time.Now().Add(wait)
	var last string
	for time.Now().Before(deadline) {
		select {
		case d, ok := <-s.data:
			if !ok {
				t.Fatalf("the event stream ended; last event:\n%s", last)
			}
			last = unescapeJSON(d)
			if strings.Contains(last, want) {
				return last
			}
		case <-time.After(time.Until(deadline)):
		}
	}
	t.Fatalf("no event with %q in %s; last:\n%s", want, wait, last)
	return ""
}

// unescapeJSON is the HTML of an event's data.
func unescapeJSON(data string) string {
	var msg map[string]string
	if err := json.Unmarshal([]byte(data), &msg); err != nil {
		return "undecodable: " + data
	}
	return msg["html"]
}
