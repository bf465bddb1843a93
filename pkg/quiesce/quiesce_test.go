package quiesce_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/quiesce"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// TestAgainstARealCluster runs quiesce against a real API server and kube-controller-manager:
// the controllers create the pods, and remove them once quiesce has scaled their owners down.
// There is no kubelet, so pods stay Pending; unscheduled pods are deleted at once.
func TestAgainstARealCluster(t *testing.T) {
	cp, err := controlplane.Start("quiesce", controlplane.WithControllerManager())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cp.Stop(); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	t.Run("every kind", func(t *testing.T) { everyKind(ctx, t, cp.Client) })
	t.Run("restored by Velero", func(t *testing.T) { restoredByVelero(ctx, t, cp.Client) })
	t.Run("OnlyPVCs", func(t *testing.T) { onlyPVCs(ctx, t, cp.Client) })
	t.Run("owners", func(t *testing.T) { owners(ctx, t, cp.Client) })
	t.Run("DeploymentConfigs", func(t *testing.T) { deploymentConfigs(ctx, t, cp) })
}

func everyKind(ctx context.Context, t *testing.T, c client.Client) {
	const ns = "apps"
	createNamespace(ctx, t, c, ns)
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Selector: selector("web"), Template: template("web")}}
	pausedWeb := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "paused-web"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Paused: true, Selector: selector("paused-web"), Template: template("paused-web")}}
	db := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](2), ServiceName: "db", Selector: selector("db"), Template: template("db")}}
	bare := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bare"},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](2), Selector: selector("bare"), Template: template("bare")}}
	rcTemplate := template("rc")
	rc := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rc"},
		Spec: corev1.ReplicationControllerSpec{Replicas: ptr.To[int32](2), Selector: map[string]string{"app": "rc"}, Template: &rcTemplate}}
	agentTemplate := template("agent")
	agentTemplate.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	agent := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent"},
		Spec: appsv1.DaemonSetSpec{Selector: selector("agent"), Template: agentTemplate}}
	batchTemplate := template("batch")
	batchTemplate.Spec.RestartPolicy = corev1.RestartPolicyNever
	batch := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "batch"},
		Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](2), Completions: ptr.To[int32](4), Template: batchTemplate}}
	nightly := cronJob(ns, "nightly", nil)
	userOff := cronJob(ns, "user-off", ptr.To(true))
	for _, obj := range []client.Object{web, pausedWeb, db, bare, rc, agent, batch, nightly, userOff} {
		mustCreate(ctx, t, c, obj)
	}
	opts := quiesce.Options{Namespaces: []string{ns}}

	// 3 web + 1 db (ordered: db-1 waits for db-0 to be Ready) + 2 bare + 2 rc + 2 batch.
	waitFor(ctx, t, "the controllers to create 10 pods", func() bool {
		pods, err := quiesce.Remaining(ctx, c, opts)
		return err == nil && len(pods) >= 10
	})

	rep, err := quiesce.Quiesce(ctx, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	wantChanged := []string{
		"CronJob apps/nightly: suspended",
		"Deployment apps/paused-web: 2 → 0, unpaused",
		"Deployment apps/web: 3 → 0",
		"StatefulSet apps/db: 2 → 0",
		"ReplicaSet apps/bare: 2 → 0",
		"ReplicationController apps/rc: 2 → 0",
		"DaemonSet apps/agent: unscheduled (nodeSelector migration.openshift.io/quiesceDaemonSet=true)",
		"Job apps/batch: parallelism 2 → 0",
	}
	if !slices.Equal(rep.Changed, wantChanged) {
		t.Errorf("quiesce changed\n%s\nwant\n%s", strings.Join(rep.Changed, "\n"), strings.Join(wantChanged, "\n"))
	}
	quiesced := snapshot(ctx, t, c, ns)
	wantQuiesced := map[string]string{
		"Deployment/web":           "replicas=0 paused=false " + quiesce.AnnotationPaused + "=false " + quiesce.AnnotationReplicas + "=3",
		"Deployment/paused-web":    "replicas=0 paused=false " + quiesce.AnnotationPaused + "=true " + quiesce.AnnotationReplicas + "=2",
		"StatefulSet/db":           "replicas=0 " + quiesce.AnnotationReplicas + "=2",
		"ReplicaSet/bare":          "replicas=0 " + quiesce.AnnotationReplicas + "=2",
		"ReplicationController/rc": "replicas=0 " + quiesce.AnnotationReplicas + "=2",
		"DaemonSet/agent": "nodeSelector=map[disk:ssd migration.openshift.io/quiesceDaemonSet:true] " +
			quiesce.AnnotationNodeSelector + `={"disk":"ssd"}`,
		"Job/batch":        "parallelism=0 " + quiesce.AnnotationReplicas + "=2",
		"CronJob/nightly":  "suspend=true " + quiesce.AnnotationSuspend + "=true",
		"CronJob/user-off": "suspend=true",
	}
	compare(t, "after quiesce", quiesced, wantQuiesced)

	waitFor(ctx, t, "Remaining to be empty", func() bool {
		pods, err := quiesce.Remaining(ctx, c, opts)
		return err == nil && len(pods) == 0
	})

	// A second quiesce (a retried phase) changes nothing and keeps the recorded values.
	rep, err = quiesce.Quiesce(ctx, c, opts)
	if err != nil || len(rep.Changed) != 0 {
		t.Errorf("second quiesce: %v %v", rep.Changed, err)
	}
	compare(t, "after a second quiesce", snapshot(ctx, t, c, ns), wantQuiesced)

	// The user scales the bare ReplicaSet while it is quiesced: unquiesce keeps that count.
	if err := c.Patch(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bare"}},
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":1}}`))); err != nil {
		t.Fatal(err)
	}

	rep, err = quiesce.Unquiesce(ctx, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	wantChanged = []string{
		"Deployment apps/paused-web: 0 → 2, paused again",
		"Deployment apps/web: 0 → 3",
		"StatefulSet apps/db: 0 → 2",
		"ReplicaSet apps/bare: keeps 1 (changed since quiesce; 2 was recorded)",
		"ReplicationController apps/rc: 0 → 2",
		"DaemonSet apps/agent: nodeSelector restored",
		"Job apps/batch: parallelism 0 → 2",
		"CronJob apps/nightly: resumed",
	}
	if !slices.Equal(rep.Changed, wantChanged) {
		t.Errorf("unquiesce changed\n%s\nwant\n%s", strings.Join(rep.Changed, "\n"), strings.Join(wantChanged, "\n"))
	}
	compare(t, "after unquiesce", snapshot(ctx, t, c, ns), map[string]string{
		"Deployment/web":           "replicas=3 paused=false",
		"Deployment/paused-web":    "replicas=2 paused=true",
		"StatefulSet/db":           "replicas=2",
		"ReplicaSet/bare":          "replicas=1",
		"ReplicationController/rc": "replicas=2",
		"DaemonSet/agent":          "nodeSelector=map[disk:ssd]",
		"Job/batch":                "parallelism=2",
		"CronJob/nightly":          "suspend=false",
		"CronJob/user-off":         "suspend=true",
	})
	rep, err = quiesce.Unquiesce(ctx, c, opts)
	if err != nil || len(rep.Changed) != 0 {
		t.Errorf("second unquiesce: %v %v", rep.Changed, err)
	}
	waitFor(ctx, t, "the web pods to come back", func() bool {
		pods, err := quiesce.Remaining(ctx, c, opts)
		return err == nil && len(slices.DeleteFunc(pods, func(p string) bool { return !strings.HasPrefix(p, "apps/web-") })) == 3
	})
}

// restoredByVelero: on a destination, objects restored from a backup of a quiesced source
// carry the annotations; unquiesce brings them up.
func restoredByVelero(ctx context.Context, t *testing.T, c client.Client) {
	const ns = "restored"
	createNamespace(ctx, t, c, ns)
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web",
		Annotations: map[string]string{quiesce.AnnotationReplicas: "2", quiesce.AnnotationPaused: "false"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](0), Selector: selector("web"), Template: template("web")}}
	mustCreate(ctx, t, c, web)
	rep, err := quiesce.Unquiesce(ctx, c, quiesce.Options{Namespaces: []string{ns}})
	if err != nil || !slices.Equal(rep.Changed, []string{"Deployment restored/web: 0 → 2"}) {
		t.Errorf("unquiesce: %v %v", rep.Changed, err)
	}
	compare(t, "after unquiesce", snapshot(ctx, t, c, ns), map[string]string{"Deployment/web": "replicas=2 paused=false"})
}

// onlyPVCs: a namespace shared by several plans; only workloads mounting the plan's PVCs stop.
func onlyPVCs(ctx context.Context, t *testing.T, c client.Client) {
	const ns = "shared"
	createNamespace(ctx, t, c, ns)
	deploy := func(name string, claims ...string) *appsv1.Deployment {
		tpl := template(name)
		for _, claim := range claims {
			tpl.Spec.Volumes = append(tpl.Spec.Volumes, corev1.Volume{Name: claim,
				VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
		}
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: selector(name), Template: tpl}}
	}
	db := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](1), ServiceName: "db", Selector: selector("db"), Template: template("db"),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}}}
	for _, obj := range []client.Object{deploy("uses-a", "a"), deploy("uses-b", "b"), deploy("no-pvc"), db} {
		mustCreate(ctx, t, c, obj)
	}
	all := quiesce.Options{Namespaces: []string{ns, "apps"}}
	scoped := quiesce.Options{Namespaces: []string{ns, "apps"}, OnlyPVCs: map[types.NamespacedName]bool{
		{Namespace: ns, Name: "a"}: true, {Namespace: ns, Name: "data-db-0"}: true}}
	waitFor(ctx, t, "4 pods in the shared namespace", func() bool {
		pods, err := quiesce.Remaining(ctx, c, quiesce.Options{Namespaces: []string{ns}})
		return err == nil && len(pods) == 4
	})
	pods, err := quiesce.Remaining(ctx, c, scoped)
	if err != nil || len(pods) != 2 {
		t.Errorf("in scope before quiesce: %v %v (want the uses-a pod and db-0)", pods, err)
	}

	rep, err := quiesce.Quiesce(ctx, c, scoped)
	want := []string{"Deployment shared/uses-a: 1 → 0", "StatefulSet shared/db: 1 → 0"}
	if err != nil || !slices.Equal(rep.Changed, want) {
		t.Errorf("scoped quiesce: %v %v, want %v (namespace apps has no selected PVC)", rep.Changed, err, want)
	}
	waitFor(ctx, t, "the scoped pods to go", func() bool {
		pods, err := quiesce.Remaining(ctx, c, scoped)
		return err == nil && len(pods) == 0
	})
	pods, err = quiesce.Remaining(ctx, c, quiesce.Options{Namespaces: []string{ns}})
	if err != nil || len(pods) != 2 {
		t.Errorf("out of scope after quiesce: %v %v (want the uses-b and no-pvc pods still there)", pods, err)
	}
	compare(t, "after scoped quiesce", snapshot(ctx, t, c, ns), map[string]string{
		"Deployment/uses-a": "replicas=0 paused=false " + quiesce.AnnotationPaused + "=false " + quiesce.AnnotationReplicas + "=1",
		"Deployment/uses-b": "replicas=1 paused=false",
		"Deployment/no-pvc": "replicas=1 paused=false",
		"StatefulSet/db":    "replicas=0 " + quiesce.AnnotationReplicas + "=1",
	})

	// Another plan's quiesce of the whole namespace, then this plan's unquiesce: the scoped
	// unquiesce leaves the other plan's workloads down.
	rep, err = quiesce.Quiesce(ctx, c, quiesce.Options{Namespaces: []string{ns}})
	if err != nil || !slices.Equal(rep.Changed, []string{"Deployment shared/no-pvc: 1 → 0", "Deployment shared/uses-b: 1 → 0"}) {
		t.Errorf("whole-namespace quiesce: %v %v", rep.Changed, err)
	}
	rep, err = quiesce.Unquiesce(ctx, c, scoped)
	want = []string{"Deployment shared/uses-a: 0 → 1", "StatefulSet shared/db: 0 → 1"}
	if err != nil || !slices.Equal(rep.Changed, want) {
		t.Errorf("scoped unquiesce: %v %v, want %v", rep.Changed, err, want)
	}
	if _, err := quiesce.Unquiesce(ctx, c, all); err != nil {
		t.Error(err)
	}
	compare(t, "after unquiesce", snapshot(ctx, t, c, ns), map[string]string{
		"Deployment/uses-a": "replicas=1 paused=false",
		"Deployment/uses-b": "replicas=1 paused=false",
		"Deployment/no-pvc": "replicas=1 paused=false",
		"StatefulSet/db":    "replicas=1",
	})
}

// owners: two plans quiesce workloads of one namespace, each recording itself as owner. An
// un-quiesce of the whole namespace for one plan (its scope once the other plan is closed)
// starts only what that plan stopped, and what nobody owns (MTC's bookkeeping); the other
// plan's un-quiesce starts the rest.
func owners(ctx context.Context, t *testing.T, c client.Client) {
	const ns = "owned"
	createNamespace(ctx, t, c, ns)
	deploy := func(name string, claim string) *appsv1.Deployment {
		tpl := template(name)
		tpl.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: selector(name), Template: tpl}}
	}
	legacy := deploy("by-mtc", "c")
	legacy.Spec.Replicas = ptr.To[int32](0)
	legacy.Annotations = map[string]string{quiesce.AnnotationReplicas: "3"}
	for _, obj := range []client.Object{deploy("of-a", "a"), deploy("of-b", "b"), legacy} {
		mustCreate(ctx, t, c, obj)
	}
	only := func(claim, owner string) quiesce.Options {
		return quiesce.Options{Namespaces: []string{ns}, Owner: owner,
			OnlyPVCs: map[types.NamespacedName]bool{{Namespace: ns, Name: claim}: true}}
	}
	for _, o := range []quiesce.Options{only("a", "plan-a"), only("b", "plan-b")} {
		if _, err := quiesce.Quiesce(ctx, c, o); err != nil {
			t.Fatal(err)
		}
	}
	owner := func(name string) string {
		d := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			t.Fatal(err)
		}
		return d.Annotations[quiesce.AnnotationQuiescedBy]
	}
	if owner("of-a") != "plan-a" || owner("of-b") != "plan-b" || owner("by-mtc") != "" {
		t.Errorf("owners after quiesce: of-a %q, of-b %q, by-mtc %q", owner("of-a"), owner("of-b"), owner("by-mtc"))
	}
	rep, err := quiesce.Unquiesce(ctx, c, quiesce.Options{Namespaces: []string{ns}, Owner: "plan-a"})
	want := []string{"Deployment owned/by-mtc: 0 → 3", "Deployment owned/of-a: 0 → 2"}
	if err != nil || !slices.Equal(rep.Changed, want) {
		t.Errorf("plan A's un-quiesce of the namespace: %v %v, want %v", rep.Changed, err, want)
	}
	compare(t, "after plan A's un-quiesce", snapshot(ctx, t, c, ns), map[string]string{
		"Deployment/of-a":   "replicas=2 paused=false",
		"Deployment/of-b":   "replicas=0 paused=false " + quiesce.AnnotationPaused + "=false " + quiesce.AnnotationReplicas + "=2",
		"Deployment/by-mtc": "replicas=3 paused=false",
	})
	if owner("of-a") != "" || owner("of-b") != "plan-b" {
		t.Errorf("owners after plan A's un-quiesce: of-a %q (want none), of-b %q", owner("of-a"), owner("of-b"))
	}
	if _, err := quiesce.Unquiesce(ctx, c, quiesce.Options{Namespaces: []string{ns}, Owner: "plan-b"}); err != nil {
		t.Fatal(err)
	}
	compare(t, "after plan B's un-quiesce", snapshot(ctx, t, c, ns), map[string]string{
		"Deployment/of-a":   "replicas=2 paused=false",
		"Deployment/of-b":   "replicas=2 paused=false",
		"Deployment/by-mtc": "replicas=3 paused=false",
	})
	if owner("of-b") != "" {
		t.Errorf("of-b keeps owner %q after its un-quiesce", owner("of-b"))
	}
}

// deploymentConfigs: skipped where apps.openshift.io is not served; quiesced (unstructured)
// once a DeploymentConfig CRD stands in for OpenShift's API.
func deploymentConfigs(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane) {
	const ns = "dc"
	createNamespace(ctx, t, cp.Client, ns)
	opts := quiesce.Options{Namespaces: []string{ns}}
	if rep, err := quiesce.Quiesce(ctx, cp.Client, opts); err != nil || len(rep.Changed) != 0 {
		t.Fatalf("without the DeploymentConfig API: %v %v", rep.Changed, err)
	}

	crd := &apiextv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "deploymentconfigs.apps.openshift.io"},
		Spec: apiextv1.CustomResourceDefinitionSpec{
			Group: "apps.openshift.io",
			Names: apiextv1.CustomResourceDefinitionNames{Plural: "deploymentconfigs", Singular: "deploymentconfig",
				Kind: "DeploymentConfig", ListKind: "DeploymentConfigList"},
			Scope: apiextv1.NamespaceScoped,
			Versions: []apiextv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextv1.CustomResourceValidation{OpenAPIV3Schema: &apiextv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true)}}}},
		},
	}
	scheme, err := controlplane.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	if err := apiextv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	// A new client: its RESTMapper discovers the group on first use.
	c, err := client.New(cp.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(ctx, t, c, crd)
	dc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig",
		"metadata": map[string]any{"namespace": ns, "name": "legacy"},
		"spec": map[string]any{"replicas": int64(2), "paused": true,
			"template": map[string]any{"spec": map[string]any{"volumes": []any{
				map[string]any{"name": "v", "persistentVolumeClaim": map[string]any{"claimName": "legacy-data"}}}}}},
	}}
	waitFor(ctx, t, "the DeploymentConfig API", func() bool { return c.Create(ctx, dc.DeepCopy()) == nil })

	rep, err := quiesce.Quiesce(ctx, c, quiesce.Options{Namespaces: []string{ns},
		OnlyPVCs: map[types.NamespacedName]bool{{Namespace: ns, Name: "legacy-data"}: true}})
	if err != nil || !slices.Equal(rep.Changed, []string{"DeploymentConfig dc/legacy: 2 → 0, unpaused"}) {
		t.Fatalf("quiesce: %v %v", rep.Changed, err)
	}
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(dc.GroupVersionKind())
	if err := c.Get(ctx, client.ObjectKeyFromObject(dc), got); err != nil {
		t.Fatal(err)
	}
	if s := describeDC(got); s != "replicas=0 paused=false "+quiesce.AnnotationPaused+"=true "+quiesce.AnnotationReplicas+"=2" {
		t.Errorf("after quiesce: %s", s)
	}
	rep, err = quiesce.Unquiesce(ctx, c, opts)
	if err != nil || !slices.Equal(rep.Changed, []string{"DeploymentConfig dc/legacy: 0 → 2, paused again"}) {
		t.Fatalf("unquiesce: %v %v", rep.Changed, err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(dc), got); err != nil {
		t.Fatal(err)
	}
	if s := describeDC(got); s != "replicas=2 paused=true" {
		t.Errorf("after unquiesce: %s", s)
	}
}

func describeDC(u *unstructured.Unstructured) string {
	r, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
	p, _, _ := unstructured.NestedBool(u.Object, "spec", "paused")
	return strings.TrimSpace(fmt.Sprintf("replicas=%d paused=%v %s", r, p, ours(u.GetAnnotations())))
}

// snapshot describes every workload of ns: the fields quiesce touches and its annotations.
func snapshot(ctx context.Context, t *testing.T, c client.Client, ns string) map[string]string {
	t.Helper()
	out := map[string]string{}
	add := func(kind string, o metav1.Object, fields string) {
		out[kind+"/"+o.GetName()] = strings.TrimSpace(fields + " " + ours(o.GetAnnotations()))
	}
	var deps appsv1.DeploymentList
	var stss appsv1.StatefulSetList
	var rss appsv1.ReplicaSetList
	var rcs corev1.ReplicationControllerList
	var dss appsv1.DaemonSetList
	var jobs batchv1.JobList
	var cjs batchv1.CronJobList
	for _, l := range []client.ObjectList{&deps, &stss, &rss, &rcs, &dss, &jobs, &cjs} {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range deps.Items {
		add("Deployment", &d, fmt.Sprintf("replicas=%d paused=%v", *d.Spec.Replicas, d.Spec.Paused))
	}
	for _, s := range stss.Items {
		add("StatefulSet", &s, fmt.Sprintf("replicas=%d", *s.Spec.Replicas))
	}
	for _, r := range rss.Items {
		if len(r.OwnerReferences) == 0 {
			add("ReplicaSet", &r, fmt.Sprintf("replicas=%d", *r.Spec.Replicas))
		}
	}
	for _, r := range rcs.Items {
		add("ReplicationController", &r, fmt.Sprintf("replicas=%d", *r.Spec.Replicas))
	}
	for _, d := range dss.Items {
		add("DaemonSet", &d, fmt.Sprintf("nodeSelector=%v", d.Spec.Template.Spec.NodeSelector))
	}
	for _, j := range jobs.Items {
		if len(j.OwnerReferences) == 0 {
			add("Job", &j, fmt.Sprintf("parallelism=%d", *j.Spec.Parallelism))
		}
	}
	for _, cj := range cjs.Items {
		add("CronJob", &cj, fmt.Sprintf("suspend=%v", ptr.Deref(cj.Spec.Suspend, false)))
	}
	return out
}

// ours lists quiesce's annotations, sorted, as "key=value" words.
func ours(ann map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(ann)) {
		if strings.HasPrefix(k, "migration.openshift.io/preQuiesce") {
			out = append(out, k+"="+ann[k])
		}
	}
	return strings.Join(out, " ")
}

func compare(t *testing.T, when string, got, want map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s: %s is %q, want %q", when, k, got[k], want[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s: %q", when, k, got[k])
		}
	}
}

func selector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

func template(app string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
	}
}

func cronJob(ns, name string, suspend *bool) *batchv1.CronJob {
	tpl := template(name)
	tpl.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	return &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", Suspend: suspend,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tpl}}}}
}

func createNamespace(ctx context.Context, t *testing.T, c client.Client, ns string) {
	t.Helper()
	mustCreate(ctx, t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
}

func mustCreate(ctx context.Context, t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(ctx, obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

func waitFor(ctx context.Context, t *testing.T, what string, done func() bool) {
	t.Helper()
	for !done() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
