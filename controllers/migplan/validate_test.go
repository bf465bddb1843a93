package migplan

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// typesOf returns the condition types, sorted, for compact assertions.
func typesOf(conds []migv1.Condition) []string {
	out := make([]string, 0, len(conds))
	for _, c := range conds {
		out = append(out, c.Type+"/"+c.Reason)
	}
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}

func TestValidateNamespaces(t *testing.T) {
	cases := []struct {
		name    string
		entries []string
		limit   int
		want    []string
		message string
	}{
		{"empty", nil, 10, []string{"NamespaceListEmpty/NotFound"}, "may not be empty"},
		{"plain and mapped", []string{"a", "b:c"}, 10, []string{}, ""},
		{"limit", []string{"a", "b", "c"}, 2, []string{"NamespaceLimitExceeded/LimitExceeded"}, "Namespace limit: 2 exceeded, found:3."},
		{"seed: two sources mapped to one destination", []string{"namespace-2", "namespace-1:namespace-2"}, 10,
			[]string{"DuplicateNamespaceOnDestinationCluster/DuplicateNamespaces"}, "[namespace-2]"},
		{"duplicate source", []string{"a", "a:b"}, 10, []string{"DuplicateNamespaceOnSourceCluster/DuplicateNamespaces"}, "[a]"},
		{"seed: self mapping is accepted", []string{"namespace-1:namespace-1"}, 10, []string{}, ""},
		{"not DNS compliant", []string{"ok:Not_OK"}, 10, []string{"NamespaceNotDNSCompliant/NotDNSCompliant"}, "Not_OK"},
		{"malformed", []string{"a:b:c", ":x"}, 10, []string{"InvalidNamespaceMapping/Malformed"}, `"a:b:c"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := validateNamespaces(tc.entries, tc.limit)
			if g := typesOf(got); !slices.Equal(g, tc.want) {
				t.Fatalf("conditions = %v, want %v", g, tc.want)
			}
			if tc.message != "" && !strings.Contains(got[0].Message, tc.message) {
				t.Errorf("message %q lacks %q", got[0].Message, tc.message)
			}
			for _, c := range got {
				if !conditions.IsBlocker(c) {
					t.Errorf("%s must block the plan", c.Type)
				}
			}
		})
	}
}

func readyCluster(name string) *migv1.MigCluster {
	c := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: name}}
	c.Status.Conditions = migv1.Conditions{conditions.Required(migv1.Ready, "", "")}
	return c
}

func ref(name string) *corev1.ObjectReference { return &corev1.ObjectReference{Name: name} }

func TestValidateRefs(t *testing.T) {
	notReady := readyCluster("src")
	notReady.Status.Conditions = nil
	cases := []struct {
		name  string
		ref   *corev1.ObjectReference
		found *migv1.MigCluster
		want  []string
	}{
		{"not set", nil, nil, []string{"InvalidSourceClusterRef/NotSet"}},
		{"not found", ref("src"), nil, []string{"InvalidSourceClusterRef/NotFound"}},
		{"not ready", ref("src"), notReady, []string{"SourceClusterNotReady/"}},
		{"ready", ref("src"), readyCluster("src"), []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := typesOf(validateClusterRef(sourceSide, tc.ref, "openshift-migration", tc.found))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if got := typesOf(validateStorageRef(nil, "ns", nil)); !slices.Equal(got, []string{"InvalidStorageRef/NotSet"}) {
		t.Errorf("storage not set: %v", got)
	}
	if got := typesOf(validateStorageRef(ref("s"), "ns", &migv1.MigStorage{})); !slices.Equal(got, []string{"StorageNotReady/"}) {
		t.Errorf("storage not ready: %v", got)
	}
}

func TestValidateHooks(t *testing.T) {
	readyHook := &migv1.MigHook{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "ok"}}
	readyHook.Status.Conditions = migv1.Conditions{conditions.Required(migv1.Ready, "", "")}
	hooks := map[types.NamespacedName]*migv1.MigHook{
		{Namespace: "openshift-migration", Name: "ok"}:      readyHook,
		{Namespace: "openshift-migration", Name: "pending"}: {},
	}
	hook := func(name, phase, ns, sa string) migv1.MigPlanHook {
		return migv1.MigPlanHook{Reference: ref(name), Phase: phase, ExecutionNamespace: ns, ServiceAccount: sa}
	}
	cases := []struct {
		name  string
		hooks []migv1.MigPlanHook
		want  []string
	}{
		{"valid", []migv1.MigPlanHook{hook("ok", "PreBackup", "app", "hook-sa")}, []string{}},
		{"missing", []migv1.MigPlanHook{hook("nope", "PreBackup", "app", "sa")}, []string{"InvalidHookRef/NotFound"}},
		{"not ready", []migv1.MigPlanHook{hook("pending", "PreBackup", "app", "sa")}, []string{"HookNotReady/"}},
		{"bad names", []migv1.MigPlanHook{hook("ok", "PreBackup", "Bad_NS", "Bad SA")},
			[]string{"InvalidHookNSName/NotDNSCompliant", "InvalidHookSAName/NotDNSCompliant"}},
		{"unknown phase", []migv1.MigPlanHook{hook("ok", "DuringBackup", "app", "sa")}, []string{"HookPhaseUnknown/NotSupported"}},
		{"two per phase", []migv1.MigPlanHook{hook("ok", "PostRestore", "app", "sa"), hook("ok", "PostRestore", "app", "sa")},
			[]string{"HookPhaseDuplicate/NotDistinct"}},
		{"four phases", []migv1.MigPlanHook{hook("ok", "PreBackup", "a", "s"), hook("ok", "PostBackup", "a", "s"),
			hook("ok", "PreRestore", "a", "s"), hook("ok", "PostRestore", "a", "s")}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration"},
				Spec: migv1.MigPlanSpec{Namespaces: []string{"app", "a"}, Hooks: tc.hooks}}
			if got := typesOf(validateHooks(p, hooks)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func plan(name string, namespaces []string, src, dest string) migv1.MigPlan {
	return migv1.MigPlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: name, UID: types.UID(name)},
		Spec:       migv1.MigPlanSpec{Namespaces: namespaces, SrcMigClusterRef: ref(src), DestMigClusterRef: ref(dest)},
	}
}

func TestConflictingPlans(t *testing.T) {
	me := plan("me", []string{"app", "db:db2"}, "src", "host")
	closed := plan("closed", []string{"app"}, "src", "host")
	closed.Spec.Closed = true
	others := []migv1.MigPlan{
		me,
		plan("same-ns-same-cluster", []string{"app"}, "src", "host"),
		plan("reverse-direction", []string{"db:db2"}, "host", "src"),
		plan("other-cluster", []string{"app"}, "elsewhere", "other"),
		plan("other-ns", []string{"web"}, "src", "host"),
		plan("same-source-other-destination", []string{"app:app-copy"}, "src", "host"),
		closed,
	}
	// "alias" is another MigCluster for the API server of "src" (F18): a plan through it
	// migrates the same namespaces of the same cluster.
	others = append(others, plan("through-an-alias", []string{"app"}, "alias", "other"))
	remote := func(name, url string) *migv1.MigCluster {
		return &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: name}, Spec: migv1.MigClusterSpec{URL: url}}
	}
	clusters := map[types.NamespacedName]*migv1.MigCluster{}
	for _, c := range []*migv1.MigCluster{remote("src", "https://api.src:6443"), remote("alias", "https://API.src:6443/"),
		remote("elsewhere", "https://api.elsewhere:6443"), remote("other", "https://api.other:6443"),
		{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "host"}, Spec: migv1.MigClusterSpec{IsHostCluster: true}}} {
		clusters[types.NamespacedName{Namespace: c.Namespace, Name: c.Name}] = c
	}
	got := conflictingPlans(&me, others, clusters)
	want := []string{"openshift-migration/reverse-direction", "openshift-migration/same-ns-same-cluster",
		"openshift-migration/same-source-other-destination", "openshift-migration/through-an-alias"}
	if !slices.Equal(got, want) {
		t.Fatalf("conflicts = %v, want %v", got, want)
	}
	if c := planConflict(got); len(c) != 1 || c[0].Category != migv1.CategoryError {
		t.Errorf("PlanConflict must be one Error condition: %+v", c)
	}
}

func migration(name string, age time.Duration, mutate func(*migv1.MigMigration), conds ...migv1.Condition) migv1.MigMigration {
	m := migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Now().Add(-age))}}
	m.Status.Conditions = conds
	if mutate != nil {
		mutate(&m)
	}
	return m
}

var (
	running    = conditions.Advisory(migv1.Running, "", "")
	succeededC = conditions.Advisory(migv1.Succeeded, "", "")
	stage      = func(m *migv1.MigMigration) { m.Spec.Stage = true }
	rollback   = func(m *migv1.MigMigration) { m.Spec.Rollback = true }
	state      = func(m *migv1.MigMigration) { m.Spec.MigrateState = true }
)

func TestIsSuspended(t *testing.T) {
	cases := []struct {
		name       string
		migrations []migv1.MigMigration
		refresh    bool
		want       bool
	}{
		{"no migrations", nil, false, false},
		{"a running stage", []migv1.MigMigration{migration("s", time.Minute, stage, running)}, false, true},
		{"a succeeded stage", []migv1.MigMigration{migration("s", time.Minute, stage, succeededC)}, false, false},
		{"a succeeded final", []migv1.MigMigration{migration("f", time.Minute, nil, succeededC)}, false, true},
		{"final then a newer succeeded rollback", []migv1.MigMigration{
			migration("f", time.Hour, nil, succeededC), migration("r", time.Minute, rollback, succeededC)}, false, false},
		{"refresh lifts suspension", []migv1.MigMigration{migration("s", time.Minute, stage, running)}, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := plan("p", []string{"a"}, "src", "host")
			p.Spec.Refresh = tc.refresh
			if got := isSuspended(&p, tc.migrations); got != tc.want {
				t.Errorf("isSuspended = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMigrationType(t *testing.T) {
	withPVCRename := func(p *migv1.MigPlan) { p.Spec.PersistentVolumes = []migv1.PV{{PVC: migv1.PVC{Name: "data:data-new"}}} }
	indirectVolume := func(p *migv1.MigPlan) { p.Spec.IndirectVolumeMigration = true }
	cases := []struct {
		name       string
		namespaces []string
		intra      bool
		mutate     func(*migv1.MigPlan)
		migrations []migv1.MigMigration
		want       []string
	}{
		// MTC identifies no type for a plain inter-cluster plan without migrations.
		{"inter-cluster namespaces", []string{"a"}, false, nil, nil, []string{}},
		{"inter-cluster PVC rename", []string{"a"}, false, withPVCRename, nil, []string{"MigrationTypeIdentified/StateMigrationPlan"}},
		{"intra-cluster, nothing remapped", []string{"a", "b"}, true, nil, nil, []string{"MigrationTypeIdentified/StorageConversionPlan"}},
		{"intra-cluster, all remapped", []string{"a:x", "b:y"}, true, nil, nil, []string{"MigrationTypeIdentified/StateMigrationPlan"}},
		{"intra-cluster, partly remapped", []string{"a:x", "b"}, true, nil, nil, []string{"IntraClusterMigration/ConflictingNamespaces"}},
		{"intra-cluster indirect volume", []string{"a"}, true, indirectVolume, nil,
			[]string{"IntraClusterMigration/NamespaceMigrationPlan", "MigrationTypeIdentified/NamespaceMigrationPlan"}},
		{"history: a state migration ran", []string{"a"}, false, nil,
			[]migv1.MigMigration{migration("m", time.Minute, state, succeededC)}, []string{"MigrationTypeIdentified/StateMigrationPlan"}},
		{"history: reset by a succeeded rollback", []string{"a"}, false, withPVCRename,
			[]migv1.MigMigration{migration("m", time.Hour, nil, succeededC), migration("r", time.Minute, rollback, succeededC)},
			[]string{"MigrationTypeIdentified/StateMigrationPlan"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := plan("p", tc.namespaces, "src", "dest")
			if tc.mutate != nil {
				tc.mutate(&p)
			}
			if got := typesOf(migrationType(&p, tc.intra, tc.migrations)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidateSource(t *testing.T) {
	pod := func(ns, name string, phase corev1.PodPhase, waiting string) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: corev1.PodStatus{Phase: phase}}
		if waiting != "" {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: waiting}}}}
		}
		return p
	}
	src := &clusterFacts{
		existing:     map[string]bool{"app": true, "velero": true},
		pods:         []corev1.Pod{pod("app", "web", corev1.PodRunning, ""), pod("app", "db", corev1.PodRunning, ""), pod("app", "bad", corev1.PodPending, "CrashLoopBackOff")},
		unknownKinds: []string{"Widget.example.com"},
	}
	got := validateSource(src, []string{"app", "gone"}, "velero", 1)
	want := []string{"InvalidResourceList/NotFound", "NamespaceNotFoundOnSourceCluster/NotFound", "PodLimitExceeded/LimitExceeded", "SourcePodsNotHealthy/NotHealthy"}
	if g := typesOf(got); !slices.Equal(g, want) {
		t.Fatalf("got %v, want %v", g, want)
	}
	if c := conditions.Find(got, migv1.NamespaceNotFoundOnSourceCluster); !strings.Contains(c.Message, "[gone]") {
		t.Errorf("message must name the missing namespace: %q", c.Message)
	}
	unhealthy := unhealthyNamespaces(src.pods)
	if len(unhealthy) != 1 || unhealthy[0].Name != "app" || len(unhealthy[0].Workloads) != 1 ||
		unhealthy[0].Workloads[0].Resources[0] != "Pod/bad: CrashLoopBackOff" {
		t.Errorf("status.namespaces = %+v", unhealthy)
	}
	if got := validateDestination(&clusterFacts{existing: map[string]bool{}}, "velero"); len(got) != 1 || !conditions.IsBlocker(got[0]) {
		t.Errorf("a missing Velero namespace on the destination must block: %+v", got)
	}
}

func TestWithReady(t *testing.T) {
	discovered := conditions.Required(migv1.PvsDiscovered, migv1.Done, "")
	ensured := conditions.Required(migv1.StorageEnsured, migv1.Done, "")
	cases := []struct {
		name  string
		conds []migv1.Condition
		want  bool
	}{
		{"discovered and ensured", []migv1.Condition{discovered, ensured}, true},
		{"storage missing", []migv1.Condition{discovered}, false},
		{"storage conversion needs no storage", []migv1.Condition{discovered,
			conditions.Advisory(migv1.MigrationTypeIdentified, migv1.StorageConversionPlan, "")}, true},
		{"a warning does not block", []migv1.Condition{discovered, ensured, conditions.Warn(migv1.PodLimitExceeded, "", "")}, true},
		{"an error blocks", []migv1.Condition{discovered, ensured, conditions.Error(migv1.PlanConflict, "", "")}, false},
	}
	for _, tc := range cases {
		if got := conditions.IsTrue(withReady(tc.conds), migv1.Ready); got != tc.want {
			t.Errorf("%s: Ready = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidateLabelSelector(t *testing.T) {
	seed := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}
	bad := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near", Values: []string{"x"}}}}
	if got := validateLabelSelector(seed); len(got) != 0 {
		t.Errorf("the seed's selector must pass: %+v", got)
	}
	if got := validateLabelSelector(nil); len(got) != 0 {
		t.Errorf("no selector must pass: %+v", got)
	}
	if got := typesOf(validateLabelSelector(bad)); !slices.Equal(got, []string{"InvalidLabelSelector/Malformed"}) {
		t.Errorf("a bad operator: got %v", got)
	}
}

// TestValidateHookExecutionNamespaces: a hook Job runs with the operator's rights to create
// it, in the namespace and with the service account the plan names, so a plan may only name
// its own namespaces on the hook's cluster, or the operator's namespace.
func TestValidateHookExecutionNamespaces(t *testing.T) {
	ready := migv1.Conditions{conditions.Required(migv1.Ready, "", "")}
	hooks := map[types.NamespacedName]*migv1.MigHook{}
	for _, target := range []string{migv1.HookTargetSource, migv1.HookTargetDestination} {
		h := &migv1.MigHook{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: target},
			Spec: migv1.MigHookSpec{TargetCluster: target}}
		h.Status.Conditions = ready
		hooks[types.NamespacedName{Namespace: "openshift-migration", Name: target}] = h
	}
	cases := []struct {
		target, namespace string
		allowed           bool
	}{
		{migv1.HookTargetSource, "shop", true},
		{migv1.HookTargetSource, "db", true},
		{migv1.HookTargetSource, "openshift-migration", true},
		{migv1.HookTargetSource, "db-new", false}, // a destination namespace, on the source
		{migv1.HookTargetSource, "kube-system", false},
		{migv1.HookTargetDestination, "db-new", true},
		{migv1.HookTargetDestination, "shop", true}, // mapped to itself
		{migv1.HookTargetDestination, "openshift-migration", true},
		{migv1.HookTargetDestination, "db", false}, // the source name of a renamed namespace
		{migv1.HookTargetDestination, "kube-system", false},
	}
	for _, tc := range cases {
		t.Run(tc.target+" in "+tc.namespace, func(t *testing.T) {
			p := plan("hooked", []string{"shop", "db:db-new"}, "src", "host")
			p.Spec.Hooks = []migv1.MigPlanHook{{Reference: ref(tc.target), Phase: migv1.HookPhasePreBackup,
				ExecutionNamespace: tc.namespace, ServiceAccount: "default"}}
			var found *migv1.Condition
			for _, c := range validate(&facts{plan: &p, hooks: hooks}) {
				if c.Type == migv1.InvalidHookNSName {
					found = &c
				}
			}
			switch {
			case tc.allowed && found != nil:
				t.Errorf("refused: %s", found.Message)
			case !tc.allowed && found == nil:
				t.Errorf("a hook Job may run in %s on the %s cluster", tc.namespace, tc.target)
			case !tc.allowed && (found.Category != migv1.CategoryCritical || !strings.Contains(found.Message, tc.namespace)):
				t.Errorf("condition %+v does not block the plan or name the namespace", found)
			}
		})
	}
}
