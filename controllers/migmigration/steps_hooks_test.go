package migmigration

import (
	"context"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// hookWorld is a control plane that serves as host, source and destination (an intra-cluster
// plan), with the operator's namespace and an application namespace holding a hook service
// account.
type hookWorld struct {
	t  *testing.T
	cp *controlplane.ControlPlane
}

const hookTestNS = "openshift-migration"

func newHookWorld(t *testing.T) *hookWorld {
	t.Helper()
	w := &hookWorld{t: t, cp: controlplane.StartForTest(t, "hooks")}
	w.namespace(hookTestNS, nil)
	return w
}

// namespace creates a namespace with the given labels and a service account "runner" in it.
func (w *hookWorld) namespace(name string, labels map[string]string) {
	w.t.Helper()
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "runner"}},
	} {
		if err := w.cp.Client.Create(context.Background(), obj); err != nil && !apierrors.IsAlreadyExists(err) {
			w.t.Fatal(err)
		}
	}
}

// scope returns a migration scope of a plan called planName over namespaces whose PreBackup
// hook (a MigHook of spec) runs in execNS.
func (w *hookWorld) scope(planName string, namespaces []string, execNS string, spec migv1.MigHookSpec) *Scope {
	w.t.Helper()
	ctx := context.Background()
	hook := &migv1.MigHook{ObjectMeta: metav1.ObjectMeta{Namespace: hookTestNS, GenerateName: "hook-"}, Spec: spec}
	if err := w.cp.Client.Create(ctx, hook); err != nil {
		w.t.Fatal(err)
	}
	cluster := Remote{Cluster: &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: hookTestNS, Name: "host", UID: "host-uid"}},
		Client: w.cp.Client, Config: w.cp.Config}
	return &Scope{
		Migration: &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: hookTestNS, Name: "final", UID: types.UID(planName + "-migration")}},
		Plan: &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: hookTestNS, Name: planName}, Spec: migv1.MigPlanSpec{
			Namespaces: namespaces,
			Hooks: []migv1.MigPlanHook{{Reference: &corev1.ObjectReference{Namespace: hookTestNS, Name: hook.Name},
				Phase: migv1.HookPhasePreBackup, ExecutionNamespace: execNS, ServiceAccount: "runner"}},
		}},
		Source: cluster, Destination: cluster, Host: w.cp.Client, Settings: settings.Defaults(),
	}
}

// start runs the PreBackup hook step until it created its Job (or failed) and returns the
// outcome and the Job, if any.
func (w *hookWorld) start(s *Scope) (itinerary.Outcome, *batchv1.Job) {
	w.t.Helper()
	ctx := context.Background()
	var out itinerary.Outcome
	for range 3 {
		var err error
		out, err = runHook(migv1.HookPhasePreBackup)(ctx, s)
		if err != nil {
			w.t.Fatalf("hook step: %v", err)
		}
		if out.Fail != nil || len(s.Migration.Status.References) > 0 && out.RequeueAfter == pollWorkload {
			break
		}
	}
	jobs := &batchv1.JobList{}
	if err := w.cp.Client.List(ctx, jobs, client.MatchingLabels{hookOwnerLabel: string(s.Migration.UID)}); err != nil {
		w.t.Fatal(err)
	}
	if len(jobs.Items) == 0 {
		return out, nil
	}
	return out, &jobs.Items[0]
}

func TestHookJobOfAPlanNamedWithADot(t *testing.T) {
	w := newHookWorld(t)
	w.namespace("shop", nil)
	out, job := w.start(w.scope("shop.v2", []string{"shop"}, "shop", migv1.MigHookSpec{Custom: true, Image: "registry.example/hooks/record:1", TargetCluster: "source"}))
	if out.Fail != nil || job == nil {
		t.Fatalf("the hook Job of plan shop.v2 was not created: %+v", out.Fail)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if c.Name != "shop-v2-prebackup" {
		t.Errorf("container name %q", c.Name)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["MIGRATION_PLAN_NAME"] != "shop.v2" {
		t.Errorf("MIGRATION_PLAN_NAME = %q, want the plan's real name", env["MIGRATION_PLAN_NAME"])
	}
}

// TestHookJobGetsTheProxy: the MigrationController's proxy settings reach the hook's
// container, as MTC's operator passed them to everything it ran.
func TestHookJobGetsTheProxy(t *testing.T) {
	w := newHookWorld(t)
	w.namespace("proxied", nil)
	s := w.scope("proxied", []string{"proxied"}, "proxied", migv1.MigHookSpec{Custom: true, Image: "registry.example/hooks/record:1", TargetCluster: "source"})
	s.Settings = settings.FromSpec(&migv1.MigrationControllerSpec{HTTPSProxy: "http://proxy.example:3128", NoProxy: ".svc"})
	out, job := w.start(s)
	if out.Fail != nil || job == nil {
		t.Fatalf("no hook Job: %+v", out.Fail)
	}
	env := map[string]string{}
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["HTTPS_PROXY"] != "http://proxy.example:3128" || env["https_proxy"] != "http://proxy.example:3128" || env["NO_PROXY"] != ".svc" {
		t.Errorf("hook environment %v lacks the proxy settings", env)
	}
	if env["MIGRATION_PLAN_NAME"] != "proxied" {
		t.Errorf("MIGRATION_PLAN_NAME = %q", env["MIGRATION_PLAN_NAME"])
	}
}

func TestHookJobRunsOnlyInThePlansNamespaces(t *testing.T) {
	w := newHookWorld(t)
	w.namespace("shop", nil)
	w.namespace("kube-system", nil)
	out, job := w.start(w.scope("shop", []string{"shop"}, "kube-system", migv1.MigHookSpec{Custom: true, Image: "registry.example/hooks/record:1", TargetCluster: "source"}))
	if job != nil {
		t.Fatalf("a hook Job runs in %s as %s", job.Namespace, job.Spec.Template.Spec.ServiceAccountName)
	}
	if out.Fail == nil || out.Fail.Reason != "PreBackupHooksFailed" {
		t.Fatalf("outcome %+v, want the migration failed", out)
	}
	t.Log(out.Fail.Message)
}

func TestHookJobIsHardenedAndBounded(t *testing.T) {
	w := newHookWorld(t)
	w.namespace("shop", nil)
	w.namespace("locked", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	playbook := "LSBob3N0czogbG9jYWxob3N0CiAgdGFza3M6IFtdCg==" // "- hosts: localhost\n  tasks: []\n"
	for _, tc := range []struct {
		ns         string
		spec       migv1.MigHookSpec
		wantNonRoo bool
	}{
		{"shop", migv1.MigHookSpec{Custom: true, Image: "registry.example/hooks/record:1"}, false},
		{"shop", migv1.MigHookSpec{Playbook: playbook}, false},
		{"locked", migv1.MigHookSpec{Custom: true, Image: "registry.example/hooks/record:1"}, true},
	} {
		tc.spec.TargetCluster = "source"
		_, job := w.start(w.scope("plan-"+tc.ns+map[bool]string{true: "-custom", false: "-playbook"}[tc.spec.Custom], []string{"shop", "locked"}, tc.ns, tc.spec))
		if job == nil {
			t.Fatalf("%s: no Job", tc.ns)
		}
		pod := job.Spec.Template.Spec
		if pod.SecurityContext == nil || pod.SecurityContext.SeccompProfile == nil || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod security context %+v, want seccomp RuntimeDefault", tc.ns, pod.SecurityContext)
		}
		c := pod.Containers[0]
		sc := c.SecurityContext
		switch {
		case sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s: container may escalate privileges: %+v", tc.ns, sc)
		case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0:
			t.Errorf("%s: capabilities %+v, want ALL dropped", tc.ns, sc.Capabilities)
		case (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) != tc.wantNonRoo:
			t.Errorf("%s: runAsNonRoot %v, want %v", tc.ns, sc.RunAsNonRoot, tc.wantNonRoo)
		case sc.Privileged != nil && *sc.Privileged:
			t.Errorf("%s: privileged", tc.ns)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if c.Resources.Requests.Name(r, "").IsZero() || c.Resources.Limits.Name(r, "").IsZero() {
				t.Errorf("%s: resources %+v, want requests and limits of cpu and memory", tc.ns, c.Resources)
			}
		}
	}
}
