package migration_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// hookNamespace is where hooks run on both clusters, with service account hookAccount: the
// operator's namespace, which a plan may name for hooks on either cluster besides its own
// namespaces (mapping.HookNamespaces).
const (
	hookNamespace = ns
	hookAccount   = "runner"
)

// hookImages are the entrypoints of the hook images the tests use: the process nodes run
// an image's entrypoint as a host command, as a container runtime would run the image's.
var hookImages = map[string][]string{
	"hooks.example/fail:1": {"sh", "-c", "echo 'cannot reach the database' >&2; exit 3"},
	"hooks.example/slow:1": {"sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"},
}

func init() {
	for _, phase := range []string{migv1.HookPhasePreBackup, migv1.HookPhasePostBackup, migv1.HookPhasePreRestore, migv1.HookPhasePostRestore} {
		hookImages["hooks.example/record:"+phase] = []string{"sh", "-c", recordScript(phase)}
	}
}

// recordScript writes a ConfigMap "seen-<phase>" in the hooks namespace with what the hook
// saw, through the API server with the pod's service-account token.
func recordScript(phase string) string {
	body := fmt.Sprintf(`{"metadata":{"name":"seen-%s","labels":{"hook":"seen"}},"data":{"plan":"'"$MIGRATION_PLAN_NAME"'","namespaces":"'"$MIGRATION_NAMESPACES"'","at":"'"$(date +%%s%%N)"'"}}`,
		strings.ToLower(phase))
	return `curl -sSf --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt` +
		` -H "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)"` +
		` -H "Content-Type: application/json" -X POST` +
		` "https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}/api/v1/namespaces/` + hookNamespace + `/configmaps"` +
		` -d '` + body + `'`
}

// prepareHooks creates the hooks namespace and service account, allowed to write there, on
// both clusters.
func prepareHooks() {
	GinkgoHelper()
	for _, c := range []client.Client{env.Source.Client, env.Destination.Client} {
		objs := []client.Object{
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hookNamespace}},
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: hookNamespace, Name: hookAccount}},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: hookNamespace, Name: hookAccount},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: hookNamespace, Name: hookAccount}}},
		}
		for _, obj := range objs {
			Expect(client.IgnoreAlreadyExists(c.Create(ctx, obj))).To(Succeed())
		}
	}
}

// hook creates a MigHook and returns the plan's entry for it.
func hook(name, phase, target string, spec migv1.MigHookSpec) migv1.MigPlanHook {
	GinkgoHelper()
	spec.TargetCluster = target
	h := &migv1.MigHook{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
	Expect(env.Destination.Client.Create(ctx, h)).To(Succeed())
	return migv1.MigPlanHook{Reference: &corev1.ObjectReference{Namespace: ns, Name: name}, Phase: phase,
		ExecutionNamespace: hookNamespace, ServiceAccount: hookAccount}
}

// seen returns the ConfigMaps the record hooks wrote on c, by phase.
func seen(c client.Client) map[string]map[string]string {
	GinkgoHelper()
	list := &corev1.ConfigMapList{}
	Expect(c.List(ctx, list, client.InNamespace(hookNamespace), client.MatchingLabels{"hook": "seen"})).To(Succeed())
	out := map[string]map[string]string{}
	for _, cm := range list.Items {
		out[strings.TrimPrefix(cm.Name, "seen-")] = cm.Data
	}
	return out
}

// runHooksInOrder runs a cutover with a custom-image hook at each of the four phases.
func runHooksInOrder() {
	prepareHooks()
	app("hooked", 1)
	var hooks []migv1.MigPlanHook
	for _, h := range []struct{ phase, target string }{
		{migv1.HookPhasePreBackup, migv1.HookTargetSource},
		{migv1.HookPhasePostBackup, migv1.HookTargetSource},
		{migv1.HookPhasePreRestore, migv1.HookTargetDestination},
		{migv1.HookPhasePostRestore, migv1.HookTargetDestination},
	} {
		hooks = append(hooks, hook("record-"+strings.ToLower(h.phase), h.phase, h.target,
			migv1.MigHookSpec{Custom: true, Image: "hooks.example/record:" + h.phase}))
	}
	plan := readyPlan("hooked", []string{"hooked:hooked-new"}, func(p *migv1.MigPlan) { p.Spec.Hooks = hooks })
	m := completed(migrate("hooked-final", plan, migv1.MigMigrationSpec{QuiescePods: true}), 4*time.Minute)
	Expect(m.Status.Errors).To(BeEmpty())
	Expect(hasCondition(m, migv1.Succeeded)).To(BeTrue(), "conditions: %v", m.Status.Conditions)

	src, dst := seen(env.Source.Client), seen(env.Destination.Client)
	Expect(src).To(And(HaveKey("prebackup"), HaveKey("postbackup")), "PreBackup and PostBackup run on the source")
	Expect(src).NotTo(Or(HaveKey("prerestore"), HaveKey("postrestore")))
	Expect(dst).To(And(HaveKey("prerestore"), HaveKey("postrestore")), "PreRestore and PostRestore run on the destination")
	Expect(dst).NotTo(Or(HaveKey("prebackup"), HaveKey("postbackup")))
	for _, phase := range []string{"prebackup", "postbackup"} {
		Expect(src[phase]).To(HaveKeyWithValue("namespaces", "hooked"), "source namespace names")
		Expect(src[phase]).To(HaveKeyWithValue("plan", "hooked"))
	}
	for _, phase := range []string{"prerestore", "postrestore"} {
		Expect(dst[phase]).To(HaveKeyWithValue("namespaces", "hooked-new"), "destination namespace names, not src:dest")
	}
	order := []string{src["prebackup"]["at"], src["postbackup"]["at"], dst["prerestore"]["at"], dst["postrestore"]["at"]}
	Expect(slices.IsSorted(order)).To(BeTrue(), "hooks ran in phase order: %v", order)
	for _, step := range []string{"PreBackupHooks", "PostBackupHooks", "PreRestoreHooks", "PostRestoreHooks"} {
		Expect(stepOf(m, step)).NotTo(BeNil(), "pipeline step %s", step)
		Expect(stepOf(m, step).Completed).NotTo(BeNil())
	}
	Expect(hookJobs(env.Source.Client, "hooked")).To(HaveLen(2), "hook Jobs stay after a migration, as in MTC")

	rb := completed(migrate("hooked-rollback", plan, migv1.MigMigrationSpec{Rollback: true}), 3*time.Minute)
	Expect(rb.Status.Errors).To(BeEmpty())
	Expect(hookJobs(env.Source.Client, "hooked")).To(BeEmpty(), "a rollback deletes the plan's hook Jobs")
	Expect(hookJobs(env.Destination.Client, "hooked")).To(BeEmpty(), "a rollback deletes the plan's hook Jobs")
}

// hookJobs lists the hook Jobs of plan in the hooks namespace of c: they are named after the
// plan. Other specs (the proxy spec, which may run first) leave their hook Jobs there too.
func hookJobs(c client.Client, plan string) []string {
	GinkgoHelper()
	list := &batchv1.JobList{}
	Expect(c.List(ctx, list, client.InNamespace(hookNamespace), client.HasLabels{"mighook"})).To(Succeed())
	var out []string
	for _, j := range list.Items {
		if j.DeletionTimestamp == nil && strings.HasPrefix(j.Name, plan+"-") {
			out = append(out, j.Name)
		}
	}
	return out
}

// failingHook runs a cutover whose PostBackup hook exits non-zero, or outlives its deadline.
func failingHook(name, image string, deadline int64, wantInError string, then ...func(*migv1.MigMigration)) func() {
	return func() {
		prepareHooks()
		app(name, 2)
		h := hook(name, migv1.HookPhasePostBackup, migv1.HookTargetSource,
			migv1.MigHookSpec{Custom: true, Image: image, ActiveDeadlineSeconds: deadline})
		plan := readyPlan(name, []string{name + ":" + name + "-new"}, func(p *migv1.MigPlan) { p.Spec.Hooks = []migv1.MigPlanHook{h} })
		m := completed(migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true}), 4*time.Minute)
		Expect(m.Status.Itinerary).To(Equal("Failed"))
		GinkgoWriter.Printf("errors: %v\n", m.Status.Errors)
		Expect(m.Status.Errors).To(ContainElement(And(ContainSubstring(name), ContainSubstring("PostBackup"), ContainSubstring(wantInError))))
		Expect(replicasOf(env.Source.Client, name)()).To(Equal(int32(2)), "the source app runs again")
		Expect(stepOf(m, "PostBackupHooks").Failed).To(BeTrue())
		for _, check := range then {
			check(m)
		}
	}
}

// playbookHook runs an Ansible playbook hook that tells the test what it saw, for a plan
// whose name has a dot (a DNS subdomain; the hook's Job and container names must be labels).
func playbookHook() {
	prepareHooks()
	app("played", 1)
	playbook := `- hosts: localhost
  gather_facts: false
  tasks:
  - name: tell the test what the hook saw
    ansible.builtin.uri:
      url: "https://{{ lookup('env', 'KUBERNETES_SERVICE_HOST') }}:{{ lookup('env', 'KUBERNETES_SERVICE_PORT') }}/api/v1/namespaces/` + hookNamespace + `/configmaps"
      method: POST
      ca_path: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
      headers:
        Authorization: "Bearer {{ lookup('file', '/var/run/secrets/kubernetes.io/serviceaccount/token') }}"
      body_format: json
      body:
        metadata: {name: seen-playbook, labels: {hook: seen}}
        data: {namespaces: "{{ lookup('env', 'MIGRATION_NAMESPACES') }}", plan: "{{ lookup('env', 'MIGRATION_PLAN_NAME') }}"}
      status_code: 201
`
	h := hook("played", migv1.HookPhasePreBackup, migv1.HookTargetSource,
		migv1.MigHookSpec{Playbook: base64.StdEncoding.EncodeToString([]byte(playbook)), Image: "quay.io/konveyor/hook-runner:latest"})
	plan := readyPlan("played.v1", []string{"played"}, func(p *migv1.MigPlan) { p.Spec.Hooks = []migv1.MigPlanHook{h} })
	m := completed(migrate("played-final", plan, migv1.MigMigrationSpec{}), 4*time.Minute)
	Expect(m.Status.Errors).To(BeEmpty())
	Expect(seen(env.Source.Client)).To(HaveKeyWithValue("playbook", And(HaveKeyWithValue("namespaces", "played"), HaveKeyWithValue("plan", "played.v1"))))
}

// stepOf returns the migration's pipeline step called name, or nil.
func stepOf(m *migv1.MigMigration, name string) *migv1.Step {
	for _, s := range m.Status.Pipeline {
		if s.Name == name {
			return s
		}
	}
	return nil
}
