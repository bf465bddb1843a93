package compat_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/hack/repo"
	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// statusTimeout bounds the wait for the objects' conditions. Every check here fails fast (no
// host name of the seed resolves, or the server refuses the example credentials), so the
// margin is for a loaded machine.
const statusTimeout = 90 * time.Second

// mtcGroup is the API group of the kinds whose status the controllers write.
const mtcGroup = "migration.openshift.io"

// condition is what clients of MTC's API act on in a condition: its type, status, category
// (whether it blocks) and reason. Messages are prose and timestamps vary; neither is compared.
type condition struct {
	Type     string `json:"type"`
	Status   string `json:"status"`
	Category string `json:"category"`
	Reason   string `json:"reason,omitempty"`
}

func (c condition) String() string {
	return fmt.Sprintf("%s=%s (%s, reason %q)", c.Type, c.Status, c.Category, c.Reason)
}

func isTrue(category, conditionType, reason string) condition {
	return condition{Type: conditionType, Status: "True", Category: category, Reason: reason}
}

func critical(conditionType, reason string) condition {
	return isTrue("Critical", conditionType, reason)
}

// expectation is the complete list of conditions an object must carry: none missing, none
// other, except those in allowed (Ferry's own, documented additions).
type expectation struct {
	want    []condition
	allowed []condition
}

// ready is the Ready condition MTC's controllers set (SetReady): Required, without a reason.
var ready = isTrue("Required", "Ready", "")

// planConflict is MigPlan's PlanConflict (mtc-behavior.md §3.3, line 364).
var planConflict = isTrue("Error", "PlanConflict", "Conflict")

// unreferenced returns the conditions of a plan that references no cluster and no storage
// (§3.3, lines 349, 350 and 354).
func unreferenced(more ...condition) []condition {
	return append([]condition{
		critical("InvalidSourceClusterRef", "NotSet"),
		critical("InvalidDestinationClusterRef", "NotSet"),
		critical("InvalidStorageRef", "NotSet"),
	}, more...)
}

// seedStatus holds, per seed object ("Kind/name", or "Kind/generateName*"), the conditions
// MTC's controllers write for it on this test's host cluster. The remote cluster's URL and
// the bucket's credentials are the documentation's placeholders: nothing that depends on
// them becomes Ready. Sections and line numbers are those of the MTC behaviour reference,
// mtc-behavior.md; where it is silent, upstream mig-controller's code decides and the
// comment says so.
var seedStatus = map[string]expectation{
	// §4.2 (line 436): a host cluster skips the URL, token, connection, privilege and version
	// checks; §4.1 (line 423): it is then Ready.
	"MigCluster/host": {want: []condition{ready}},
	// §4.2 (line 431): the connection test fails, TestConnectFailed/ConnectFailed, and the
	// checks after the first Critical one (the registry route) are skipped (line 436). §12
	// (line 696): MTC's own test under-reports this since client.New became lazy (the failure
	// then surfaces as ReconcileFailed); the reference asks for an explicit probe, which is
	// what TestConnectFailed stands for.
	"MigCluster/source": {want: []condition{critical("TestConnectFailed", "ConnectFailed")}},
	// §5.2 (lines 458-466): the AWS settings and credentials are valid and the live bucket test
	// fails, BackupStorageProviderTestFailed/TestFailed; AWS has no volume snapshot test (line
	// 464). §5.1 (line 456): Ready only when validation passes.
	"MigStorage/migstorage": {want: []condition{critical("BackupStorageProviderTestFailed", "TestFailed")}},

	// Plans with cluster and storage references (§3.3): the source cluster and the storage are
	// not Ready, Critical without a reason (lines 351 and 354; NotReady is none of the plan's
	// reasons, line 373, and upstream sets no Reason); the destination (host) is Ready, and the
	// checks that need a Ready source do not run (lines 363, 368, 376). The four plans share
	// the clusters and the namespace mysql-persistent: PlanConflict (line 364). No Ready
	// (§3.2, line 344).
	//
	// Seed §11.3.4 step 8: indirect image and volume migration make a namespace migration plan
	// (line 353); so does its MigMigration (line 353: migrations exist, none migrates state).
	"MigPlan/migplan": {want: []condition{
		critical("SourceClusterNotReady", ""), critical("StorageNotReady", ""), planConflict,
		isTrue("Advisory", "MigrationTypeIdentified", "NamespaceMigrationPlan"),
	}},
	// Seed §11.5.3: the PV list as the user wrote it, not discovered (discovery needs a Ready
	// source, line 376). Selections are validated anyway (§3.2 line 341; §3.6 skips them only
	// while Suspended): a PV without supported actions is PvNoSupportedAction, Warn (line 395;
	// upstream sets no Reason), and its action "skip" is then unsupported: PvInvalidAction,
	// Error, NotDone (line 394). An inter-cluster plan without migrations, indirect modes or
	// PVC renames gets no MigrationTypeIdentified (line 353).
	"MigPlan/migplan-exclude-pvc": {want: []condition{
		critical("SourceClusterNotReady", ""), critical("StorageNotReady", ""), planConflict,
		isTrue("Error", "PvInvalidAction", "NotDone"), isTrue("Warn", "PvNoSupportedAction", ""),
	}},
	// Seed §11.5.4: a PVC rename makes a state migration plan (line 353). The PV has no
	// supported actions (line 395) and no selected action, which upstream's
	// validatePvSelections accepts then (it takes "" as the one supported action).
	"MigPlan/migplan-pvc-mapping": {want: []condition{
		critical("SourceClusterNotReady", ""), critical("StorageNotReady", ""), planConflict,
		isTrue("Advisory", "MigrationTypeIdentified", "StateMigrationPlan"),
		isTrue("Warn", "PvNoSupportedAction", ""),
	}},
	// Seed §11.5.6 step 1.2, which a MigMigration runs: a namespace migration plan (line 353).
	"MigPlan/migplan-state-frontend": {want: []condition{
		critical("SourceClusterNotReady", ""), critical("StorageNotReady", ""), planConflict,
		isTrue("Advisory", "MigrationTypeIdentified", "NamespaceMigrationPlan"),
	}},

	// Seed §11.5.2, plans without references: namespace_1 and namespace_2 are not DNS-1123
	// labels (line 362), and two sources mapped to one destination make a duplicate
	// destination namespace (line 361). Without clusters there is nothing to call
	// intra-cluster, nor PVCs renamed: no MigrationTypeIdentified (line 353).
	"MigPlan/migplan-ns-two-to-one": {want: unreferenced(
		critical("NamespaceNotDNSCompliant", "NotDNSCompliant"),
		critical("DuplicateNamespaceOnDestinationCluster", "DuplicateNamespaces"))},
	"MigPlan/migplan-ns-incorrect": {want: unreferenced(critical("NamespaceNotDNSCompliant", "NotDNSCompliant"))},
	"MigPlan/migplan-ns-correct":   {want: unreferenced(critical("NamespaceNotDNSCompliant", "NotDNSCompliant"))},
	// Seed §11.5.5: no namespaces, NamespaceListEmpty (line 355); the copy selection of a PV
	// without supported actions, as for migplan-exclude-pvc (lines 394-395; upstream skips the
	// storage class, access mode and copy method checks of a PV whose action is invalid).
	"MigPlan/migplan-pv-attributes": {want: unreferenced(
		critical("NamespaceListEmpty", "NotFound"),
		isTrue("Error", "PvInvalidAction", "NotDone"), isTrue("Warn", "PvNoSupportedAction", ""))},
	// Seed §11.5.6 step 1.1: no namespaces; included resources are checked only against a
	// Ready source (line 368).
	"MigPlan/migplan-state": {want: unreferenced(critical("NamespaceListEmpty", "NotFound"))},
	// Seed §11.6.2. Its status, PvCapacityAdjustmentRequired, is MTC's output for a plan whose
	// volumes were measured and is not applied here (applyForStatus); test/dvm/resize_test.go
	// proves that Ferry writes it on such a plan: False/Done with enable_dvm_pv_resizing,
	// True/NotDone without.
	"MigPlan/migplan-pv-resizing": {want: unreferenced()},

	// §2.1 (lines 168-172) and §2.6 (line 296): validation comes first and finds the plan not
	// Ready: PlanNotReady, Critical without a reason, and no Ready; the migration itself waits
	// for a Ready plan (line 172). Seed §11.3.4 step 11 shows a running migration instead
	// (Running, Advisory, reason = the phase, "Step: n/m"; Ready, Required): Ferry writes that
	// in controllers/migmigration/run.go and TestRunningMessage (controllers/migmigration)
	// checks the step count, but no test of the repository asserts the condition's category
	// and reason while a migration runs (test/migration checks how migrations end).
	"MigMigration/migmigration":             {want: []condition{critical("PlanNotReady", "")}},
	"MigMigration/migplan-state-frontend-*": {want: []condition{critical("PlanNotReady", "")}},
}

// migrationControllerStatus is the status of every seed MigrationController. MTC's Ansible
// operator (operator-sdk) reports a successful run as Running=True, reason Successful; the
// reference does not describe it (§1.11, line 151: mig-controller only reads the CR). Ferry
// gives it the category Advisory and names the settings it does not act on in
// UnsupportedSettings (Warn), a documented addition (README, "What works today"). Every
// value of the seed is valid, so InvalidSettings must not appear. The seed sets
// migration_velero: true; this host has no config/velero (the grants Velero needs), so Ferry
// says so in VeleroNotReady (Warn, NotInstallable) instead of deploying Velero.
var migrationControllerStatus = expectation{
	want: []condition{isTrue("Advisory", "Running", "Successful")},
	allowed: []condition{isTrue("Warn", "UnsupportedSettings", "NotSupported"),
		isTrue("Warn", "VeleroNotReady", "NotInstallable")},
}

// applyOrder ranks kinds for applying. A plan is not evaluated again when another plan
// appears (in MTC neither), so the clusters and the storage the plans reference come after
// all plans: their first status re-evaluates every plan, which then sees the others whatever
// the speed of the first reconciles. Migrations come last, as users run them.
var applyOrder = map[string]int{"Secret": 0, "MigPlan": 1, "MigCluster": 2, "MigStorage": 2, "MigHook": 2, "MigMigration": 3}

// TestSeedStatus runs Ferry's controllers on a control plane of their own, as the host
// cluster, applies the seed manifests unchanged and checks that each object's conditions are
// the ones MTC writes for the same input, by type, status, category and reason.
func TestSeedStatus(t *testing.T) {
	host := controlplane.StartForTest(t, "compat-status")
	c := host.Client
	for _, ns := range baseNamespaces {
		ctx, cancel := context.WithTimeout(t.Context(), apiTimeout)
		err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		cancel()
		if err != nil {
			t.Fatalf("create namespace %s: %v", ns, err)
		}
	}
	runOperator(t, host)

	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	controllers, others, err := seedObjects(root)
	if err != nil {
		t.Fatal(err)
	}

	// The seed's MigrationControllers all have one name: each document is applied in turn, as
	// a user editing the CR would, and reported on before the next.
	t.Run("MigrationController", func(t *testing.T) {
		for _, d := range controllers {
			s := &statusCheck{doc: d, key: applyForStatus(t, c, d), want: migrationControllerStatus}
			waitStatus(t.Context(), c, []*statusCheck{s})
			if !t.Run(filepath.Base(d.file)+"/"+d.String(), s.report) {
				return
			}
		}
	})

	var checks []*statusCheck
	applied := map[string]bool{}
	for _, d := range others {
		key := applyForStatus(t, c, d)
		k := statusKey(d)
		applied[k] = true
		if d.obj.GroupVersionKind().Group != mtcGroup {
			continue
		}
		want, ok := seedStatus[k]
		if !ok {
			t.Errorf("%s from %s has no expected status", k, d.file)
			continue
		}
		checks = append(checks, &statusCheck{doc: d, key: key, want: want})
	}
	for k := range seedStatus {
		if !applied[k] {
			t.Errorf("no seed document for the expected status of %s", k)
		}
	}
	// One wait for all: the controllers work concurrently and read each other's objects.
	waitStatus(t.Context(), c, checks)
	for _, s := range checks {
		t.Run(statusKey(s.doc), s.report)
	}
}

// seedObjects reads the seed documents the test applies: the MigrationControllers in file
// order, and the other objects of MTC's group with the Secrets they reference in applyOrder,
// then file order. The NetworkPolicies for rsync pods have no status, and OpenShift's
// EgressNetworkPolicy is not served (see TestSeedManifests).
func seedObjects(root string) (controllers, others []document, err error) {
	files, err := yamlFiles(root, seedDir)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		docs, err := readDocuments(root, f)
		if err != nil {
			return nil, nil, err
		}
		for _, d := range docs {
			gvk := d.obj.GroupVersionKind()
			switch {
			case gvk.Group == mtcGroup && gvk.Kind == "MigrationController":
				controllers = append(controllers, d)
			case gvk.Group == mtcGroup, gvk.Group == "" && gvk.Kind == "Secret":
				if _, ok := applyOrder[gvk.Kind]; !ok {
					return nil, nil, fmt.Errorf("%s of %s: add its kind to applyOrder", d, f)
				}
				others = append(others, d)
			}
		}
	}
	slices.SortStableFunc(others, func(a, b document) int {
		return cmp.Compare(applyOrder[a.obj.GetKind()], applyOrder[b.obj.GetKind()])
	})
	return controllers, others, nil
}

// applyForStatus applies a seed document as TestSeedManifests does, without the status a
// manifest may show: that is a controller's output, which here the controllers write.
func applyForStatus(t *testing.T, c client.Client, d document) client.ObjectKey {
	t.Helper()
	d.obj = d.obj.DeepCopy()
	unstructured.RemoveNestedField(d.obj.Object, "status")
	ctx, cancel := context.WithTimeout(t.Context(), apiTimeout)
	defer cancel()
	key, err := apply(ctx, c, d)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// statusKey names a document's object in seedStatus: "Kind/name", or "Kind/prefix*" for one
// created with generateName.
func statusKey(d document) string {
	name := d.obj.GetName()
	if name == "" {
		name = d.obj.GetGenerateName() + "*"
	}
	return d.obj.GetKind() + "/" + name
}

// runOperator runs Ferry's manager with every controller against cp, as the operator runs on
// the host cluster, until the test ends.
func runOperator(t *testing.T, cp *controlplane.ControlPlane) {
	t.Helper()
	// The controllers' logs would outlive the test's output; the conditions they write are
	// what the test reports.
	ctrl.SetLogger(logr.Discard())
	opts := operator.Options{Namespace: operator.DefaultNamespace, MetricsAddr: "0", ProbeAddr: "0", GracefulShutdown: 5 * time.Second}
	mgr, err := operator.New(cp.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := operator.Setup(ctx, mgr, opts); err != nil {
		cancel()
		t.Fatal(err)
	}
	// The Ginkgo suites start the manager with test/suite.Run, which reports through Gomega's
	// fail handler; this plain test collects the manager's result itself.
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("operator manager: %v", err)
		}
	})
}

// statusCheck is one object whose conditions are checked, with what was last read of it.
type statusCheck struct {
	doc  document
	key  client.ObjectKey
	want expectation
	// got and problems are the conditions last read and how they differ from want.
	got      []condition
	problems []string
}

// waitStatus polls the objects until each one's status describes its current generation and
// carries exactly the expected conditions, or until statusTimeout.
func waitStatus(ctx context.Context, c client.Client, checks []*statusCheck) {
	deadline := time.Now().Add(statusTimeout)
	for {
		pending := false
		for _, s := range checks {
			if s.got == nil || len(s.problems) > 0 {
				s.poll(ctx, c)
				pending = pending || len(s.problems) > 0
			}
		}
		if !pending || time.Now().After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// poll reads the object's conditions and compares them with the expectation. A status that
// does not describe the current spec yet (status.observedGeneration behind
// metadata.generation) is a problem too.
func (s *statusCheck) poll(ctx context.Context, c client.Client) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(s.doc.obj.GroupVersionKind())
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := c.Get(ctx, s.key, obj); err != nil {
		s.problems = []string{"read: " + err.Error()}
		return
	}
	got, err := conditionsOf(obj)
	if err != nil {
		s.problems = []string{err.Error()}
		return
	}
	s.got = got
	s.problems = conditionDiffs(got, s.want)
	observed, _, err := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	if err != nil {
		s.problems = append(s.problems, "status.observedGeneration: "+err.Error())
	} else if observed != obj.GetGeneration() {
		s.problems = append(s.problems, fmt.Sprintf("the status describes generation %d, the object is at generation %d", observed, obj.GetGeneration()))
	}
}

// report fails t with the differences found, or logs the conditions.
func (s *statusCheck) report(t *testing.T) {
	t.Helper()
	what := fmt.Sprintf("%s %s (%s)", s.doc.obj.GetKind(), s.key.Name, s.doc.file)
	if len(s.problems) > 0 {
		t.Errorf("%s, after %s:%s", what, statusTimeout, formatDiffs(append(s.problems, "Ferry writes: "+formatConditions(s.got))))
		return
	}
	t.Logf("%s: %s", what, formatConditions(s.got))
}

// conditionsOf decodes status.conditions as stored, as MTC's tooling reads them.
func conditionsOf(obj *unstructured.Unstructured) ([]condition, error) {
	raw, _, err := unstructured.NestedSlice(obj.Object, "status", "conditions")
	if err != nil {
		return nil, fmt.Errorf("status.conditions: %w", err)
	}
	body, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("encode status.conditions: %w", err)
	}
	out := []condition{}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("decode status.conditions: %w", err)
	}
	return out, nil
}

// conditionDiffs compares conditions with an expectation: every wanted condition present and
// equal, nothing else but the allowed ones, no type twice.
func conditionDiffs(got []condition, want expectation) []string {
	var diffs []string
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g.Type] {
			diffs = append(diffs, g.Type+": present twice")
		}
		seen[g.Type] = true
		i := slices.IndexFunc(want.want, func(w condition) bool { return w.Type == g.Type })
		switch {
		case i >= 0 && want.want[i] != g:
			diffs = append(diffs, fmt.Sprintf("%s: Ferry writes %s, MTC writes %s", g.Type, g, want.want[i]))
		case i < 0 && !slices.Contains(want.allowed, g):
			diffs = append(diffs, fmt.Sprintf("%s: Ferry writes %s, MTC writes no such condition", g.Type, g))
		}
	}
	for _, w := range want.want {
		if !seen[w.Type] {
			diffs = append(diffs, fmt.Sprintf("%s: missing, MTC writes %s", w.Type, w))
		}
	}
	return diffs
}

func formatConditions(list []condition) string {
	if len(list) == 0 {
		return "no conditions"
	}
	parts := make([]string, len(list))
	for i, c := range list {
		parts[i] = c.String()
	}
	return strings.Join(parts, "; ")
}

// TestConditionDiffs checks that the comparison reports a differing, a missing and an
// unexpected condition, accepts allowed ones and exact matches.
func TestConditionDiffs(t *testing.T) {
	want := expectation{
		want:    []condition{critical("PlanNotReady", ""), ready},
		allowed: []condition{isTrue("Warn", "UnsupportedSettings", "NotSupported")},
	}
	if d := conditionDiffs([]condition{ready, critical("PlanNotReady", ""), want.allowed[0]}, want); len(d) != 0 {
		t.Errorf("matching conditions reported:%s", formatDiffs(d))
	}
	got := []condition{critical("PlanNotReady", "NotReady"), isTrue("Advisory", "MigrationTypeIdentified", "NamespaceMigrationPlan"), ready, ready}
	d := conditionDiffs(got, want)
	for _, prefix := range []string{"PlanNotReady: Ferry writes", "MigrationTypeIdentified: Ferry writes", "Ready: present twice"} {
		if !slices.ContainsFunc(d, func(s string) bool { return strings.HasPrefix(s, prefix) }) {
			t.Errorf("no difference %q reported; got:%s", prefix, formatDiffs(d))
		}
	}
	if d := conditionDiffs(nil, want); len(d) != 2 {
		t.Errorf("want 2 missing conditions reported, got:%s", formatDiffs(d))
	}
}
