package quiesce

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
)

func objMeta(ann map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: "ns", Name: "x", Annotations: ann}
}

func deployment(replicas int32, paused bool, ann map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: objMeta(ann),
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Paused: paused}}
}

func TestDeploymentDecisions(t *testing.T) {
	recorded := func(r, p string) map[string]string {
		return map[string]string{AnnotationReplicas: r, AnnotationPaused: p}
	}
	tests := []struct {
		name      string
		in        *appsv1.Deployment
		quiesce   bool
		want      *appsv1.Deployment // nil: unchanged
		wantDesc  string
		wantError bool
	}{
		{name: "running: record and scale down", quiesce: true,
			in:   deployment(3, false, nil),
			want: deployment(0, false, recorded("3", "false")), wantDesc: "3 → 0"},
		{name: "paused: record paused, unpause", quiesce: true,
			in:   deployment(2, true, map[string]string{"keep": "me"}),
			want: deployment(0, false, map[string]string{"keep": "me", AnnotationReplicas: "2", AnnotationPaused: "true"}), wantDesc: "2 → 0, unpaused"},
		{name: "already quiesced: keep the recorded values", quiesce: true,
			in: deployment(0, false, recorded("3", "true"))},
		{name: "scaled up while quiesced: scale down again, keep the recorded values", quiesce: true,
			in:   deployment(5, false, recorded("3", "false")),
			want: deployment(0, false, recorded("3", "false")), wantDesc: "5 → 0"},
		{name: "at zero, nothing recorded: nothing to stop or restore", quiesce: true,
			in: deployment(0, false, nil)},
		{name: "at zero but paused: record so that paused comes back", quiesce: true,
			in:   deployment(0, true, nil),
			want: deployment(0, false, recorded("0", "true")), wantDesc: "unpaused"},
		{name: "only replicas recorded (older writer), paused: record paused before unpausing", quiesce: true,
			in:   deployment(0, true, map[string]string{AnnotationReplicas: "4"}),
			want: deployment(0, false, recorded("4", "true")), wantDesc: "unpaused"},

		{name: "unquiesce restores replicas and paused",
			in:   deployment(0, false, recorded("3", "true")),
			want: deployment(3, true, map[string]string{}), wantDesc: "0 → 3, paused again"},
		{name: "unquiesce keeps a count the user set since",
			in:   deployment(5, false, recorded("3", "false")),
			want: deployment(5, false, map[string]string{}), wantDesc: "keeps 5 (changed since quiesce; 3 was recorded)"},
		{name: "unquiesce of an object Quiesce never touched",
			in: deployment(2, false, map[string]string{"other": "x"})},
		{name: "unquiesce with only paused recorded",
			in:   deployment(1, false, map[string]string{AnnotationPaused: "false"}),
			want: deployment(1, false, map[string]string{}), wantDesc: "annotations removed"},
		{name: "unquiesce with a broken count fails and changes nothing",
			in: deployment(0, false, recorded("three", "false")), wantError: true},
		{name: "unquiesce with a broken paused fails",
			in: deployment(0, false, map[string]string{AnnotationPaused: "maybe"}), wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.DeepCopy()
			f := unquiesceDeployment
			if tt.quiesce {
				f = quiesceDeployment
			}
			desc, err := f(got)
			if tt.wantError {
				if err == nil {
					t.Fatalf("want an error, got %q", desc)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("got\n%+v %+v\nwant\n%+v %+v", got.Annotations, got.Spec, want.Annotations, want.Spec)
			}
			if desc != tt.wantDesc {
				t.Errorf("description %q, want %q", desc, tt.wantDesc)
			}
		})
	}
}

func TestCountDecisions(t *testing.T) {
	ss := func(replicas *int32, ann map[string]string) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{ObjectMeta: objMeta(ann), Spec: appsv1.StatefulSetSpec{Replicas: replicas}}
	}
	saved := func(n string) map[string]string { return map[string]string{AnnotationReplicas: n} }
	tests := []struct {
		name     string
		in, want *appsv1.StatefulSet
		quiesce  bool
		wantDesc string
	}{
		{name: "record and scale down", quiesce: true,
			in: ss(ptr.To[int32](2), nil), want: ss(ptr.To[int32](0), saved("2")), wantDesc: "2 → 0"},
		{name: "nil replicas is 1", quiesce: true,
			in: ss(nil, nil), want: ss(ptr.To[int32](0), saved("1")), wantDesc: "1 → 0"},
		{name: "second quiesce keeps the recorded value", quiesce: true,
			in: ss(ptr.To[int32](0), saved("2"))},
		{name: "scaled up while quiesced", quiesce: true,
			in: ss(ptr.To[int32](4), saved("2")), want: ss(ptr.To[int32](0), saved("2")), wantDesc: "4 → 0"},
		{name: "at zero, nothing recorded", quiesce: true,
			in: ss(ptr.To[int32](0), nil)},
		{name: "restore",
			in: ss(ptr.To[int32](0), saved("2")), want: ss(ptr.To[int32](2), map[string]string{}), wantDesc: "0 → 2"},
		{name: "restore to 0 (Velero restored a workload recorded at 0)",
			in: ss(ptr.To[int32](0), saved("0")), want: ss(ptr.To[int32](0), map[string]string{}), wantDesc: "0 → 0"},
		{name: "keep the user's count",
			in: ss(ptr.To[int32](1), saved("2")), want: ss(ptr.To[int32](1), map[string]string{}), wantDesc: "keeps 1 (changed since quiesce; 2 was recorded)"},
		{name: "nothing recorded",
			in: ss(ptr.To[int32](3), nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.DeepCopy()
			var desc string
			var err error
			if tt.quiesce {
				desc = scaleDown(got, &got.Spec.Replicas)
			} else {
				desc, err = restore(got, &got.Spec.Replicas)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("got %v %v, want %v %v", got.Annotations, got.Spec.Replicas, want.Annotations, want.Spec.Replicas)
			}
			if desc != tt.wantDesc {
				t.Errorf("description %q, want %q", desc, tt.wantDesc)
			}
		})
	}
	for _, bad := range []string{"", "x", "-1", "99999999999"} {
		got := ss(ptr.To[int32](0), saved(bad))
		if _, err := restore(got, &got.Spec.Replicas); err == nil {
			t.Errorf("recorded %q: want an error", bad)
		}
	}
}

func TestDaemonSetDecisions(t *testing.T) {
	ds := func(sel map[string]string, ann map[string]string) *appsv1.DaemonSet {
		d := &appsv1.DaemonSet{ObjectMeta: objMeta(ann)}
		d.Spec.Template.Spec.NodeSelector = sel
		return d
	}
	rec := func(j string) map[string]string { return map[string]string{AnnotationNodeSelector: j} }
	q := map[string]string{NodeSelectorKey: "true"}
	tests := []struct {
		name     string
		in, want *appsv1.DaemonSet
		quiesce  bool
		wantDesc string
	}{
		{name: "no nodeSelector", quiesce: true,
			in: ds(nil, nil), want: ds(q, rec("{}")), wantDesc: "unscheduled (nodeSelector migration.openshift.io/quiesceDaemonSet=true)"},
		{name: "with nodeSelector", quiesce: true,
			in:   ds(map[string]string{"disk": "ssd"}, nil),
			want: ds(map[string]string{"disk": "ssd", NodeSelectorKey: "true"}, rec(`{"disk":"ssd"}`)), wantDesc: "unscheduled (nodeSelector migration.openshift.io/quiesceDaemonSet=true)"},
		{name: "second quiesce", quiesce: true,
			in: ds(map[string]string{"disk": "ssd", NodeSelectorKey: "true"}, rec(`{"disk":"ssd"}`))},
		{name: "our key without a record: record without our key", quiesce: true,
			in:   ds(map[string]string{"disk": "ssd", NodeSelectorKey: "true"}, nil),
			want: ds(map[string]string{"disk": "ssd", NodeSelectorKey: "true"}, rec(`{"disk":"ssd"}`)), wantDesc: "nodeSelector recorded"},
		{name: "record kept, key removed by someone: add it again", quiesce: true,
			in:   ds(map[string]string{"disk": "ssd"}, rec(`{"disk":"hdd"}`)),
			want: ds(map[string]string{"disk": "ssd", NodeSelectorKey: "true"}, rec(`{"disk":"hdd"}`)), wantDesc: "unscheduled (nodeSelector migration.openshift.io/quiesceDaemonSet=true)"},
		{name: "restore",
			in:   ds(map[string]string{"disk": "ssd", NodeSelectorKey: "true"}, rec(`{"disk":"ssd"}`)),
			want: ds(map[string]string{"disk": "ssd"}, map[string]string{}), wantDesc: "nodeSelector restored"},
		{name: "restore an empty nodeSelector",
			in: ds(q, rec("{}")), want: ds(nil, map[string]string{}), wantDesc: "nodeSelector restored"},
		{name: "restore MTC's null",
			in: ds(q, rec("null")), want: ds(nil, map[string]string{}), wantDesc: "nodeSelector restored"},
		{name: "nothing recorded",
			in: ds(q, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.DeepCopy()
			f := unquiesceDaemonSet
			if tt.quiesce {
				f = quiesceDaemonSet
			}
			desc, err := f(got)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("got %v %v, want %v %v", got.Annotations, got.Spec.Template.Spec.NodeSelector, want.Annotations, want.Spec.Template.Spec.NodeSelector)
			}
			if desc != tt.wantDesc {
				t.Errorf("description %q, want %q", desc, tt.wantDesc)
			}
		})
	}
	if _, err := unquiesceDaemonSet(ds(q, rec("{"))); err == nil {
		t.Error("a broken record must fail")
	}
}

func TestCronJobDecisions(t *testing.T) {
	cj := func(suspend *bool, ann map[string]string) *batchv1.CronJob {
		return &batchv1.CronJob{ObjectMeta: objMeta(ann), Spec: batchv1.CronJobSpec{Suspend: suspend}}
	}
	ours := map[string]string{AnnotationSuspend: "true"}
	tests := []struct {
		name     string
		in, want *batchv1.CronJob
		quiesce  bool
		wantDesc string
	}{
		{name: "running: mark and suspend", quiesce: true,
			in: cj(nil, nil), want: cj(ptr.To(true), ours), wantDesc: "suspended"},
		{name: "explicitly running", quiesce: true,
			in: cj(ptr.To(false), nil), want: cj(ptr.To(true), ours), wantDesc: "suspended"},
		{name: "suspended by the user: never marked", quiesce: true,
			in: cj(ptr.To(true), nil)},
		{name: "second quiesce", quiesce: true,
			in: cj(ptr.To(true), ours)},
		{name: "resumed by someone while quiesced: suspend again", quiesce: true,
			in: cj(ptr.To(false), ours), want: cj(ptr.To(true), ours), wantDesc: "suspended"},
		{name: "unquiesce resumes what quiesce suspended",
			in: cj(ptr.To(true), ours), want: cj(ptr.To(false), map[string]string{}), wantDesc: "resumed"},
		{name: "unquiesce leaves the user's suspension",
			in: cj(ptr.To(true), nil)},
		{name: "unquiesce of an already resumed CronJob removes the mark",
			in: cj(ptr.To(false), ours), want: cj(ptr.To(false), map[string]string{}), wantDesc: "annotations removed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.DeepCopy()
			f := unquiesceCronJob
			if tt.quiesce {
				f = quiesceCronJob
			}
			desc, err := f(got)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("got %v %v, want %v %v", got.Annotations, got.Spec.Suspend, want.Annotations, want.Spec.Suspend)
			}
			if desc != tt.wantDesc {
				t.Errorf("description %q, want %q", desc, tt.wantDesc)
			}
		})
	}
}

func TestDeploymentConfigDecisions(t *testing.T) {
	dc := func(replicas int64, paused bool, ann map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig",
			"metadata": map[string]any{"namespace": "ns", "name": "x"},
			"spec":     map[string]any{"replicas": replicas, "paused": paused},
		}}
		u.SetAnnotations(ann)
		return u
	}
	recorded := map[string]string{AnnotationReplicas: "2", AnnotationPaused: "true"}

	got := dc(2, true, nil)
	desc, err := quiesceDeploymentConfig(got)
	if err != nil || desc != "2 → 0, unpaused" || !equality.Semantic.DeepEqual(got, dc(0, false, recorded)) {
		t.Errorf("quiesce: %q %v %v", desc, err, got.Object)
	}
	again := got.DeepCopy()
	if desc, err := quiesceDeploymentConfig(again); err != nil || desc != "" || !equality.Semantic.DeepEqual(again, got) {
		t.Errorf("second quiesce: %q %v %v", desc, err, again.Object)
	}

	// Un-quiesce in two writes: replicas, then paused.
	desc, err = unquiesceDeploymentConfigReplicas(got)
	if err != nil || desc != "0 → 2" || !equality.Semantic.DeepEqual(got, dc(2, false, map[string]string{AnnotationPaused: "true"})) {
		t.Errorf("unquiesce replicas: %q %v %v", desc, err, got.Object)
	}
	desc, err = unquiesceDeploymentConfigPaused(got)
	if err != nil || desc != "paused again" || !equality.Semantic.DeepEqual(got, dc(2, true, map[string]string{})) {
		t.Errorf("unquiesce paused: %q %v %v", desc, err, got.Object)
	}
	for _, f := range []func(*unstructured.Unstructured) (string, error){unquiesceDeploymentConfigReplicas, unquiesceDeploymentConfigPaused} {
		if desc, err := f(got); err != nil || desc != "" {
			t.Errorf("second unquiesce: %q %v", desc, err)
		}
	}

	// A DeploymentConfig without spec.replicas is at 0; without spec.paused it is running.
	bare := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "y"}, "spec": map[string]any{}}}
	if desc, err := quiesceDeploymentConfig(bare); err != nil || desc != "" {
		t.Errorf("bare: %q %v", desc, err)
	}
	broken := dc(1, false, nil)
	broken.Object["spec"].(map[string]any)["replicas"] = "one"
	if _, err := quiesceDeploymentConfig(broken); err == nil {
		t.Error("a non-numeric spec.replicas must fail")
	}
}
