package migrationcontroller

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestRolloutState(t *testing.T) {
	want := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Containers:     []corev1.Container{{Image: "registry/velero:v1"}},
		InitContainers: []corev1.Container{{Image: "registry/plugin:v1"}},
	}}}}
	deployment := func(generation, observed int64, replicas *int32, updated, available int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "velero", Generation: generation},
			Spec:       appsv1.DeploymentSpec{Replicas: replicas},
			Status: appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: available, UpdatedReplicas: updated,
				AvailableReplicas: available},
		}
	}
	cases := map[string]struct {
		d        *appsv1.Deployment
		problems string
		reason   string
		message  []string
	}{
		"rolled out and available": {d: deployment(2, 2, ptr.To[int32](1), 1, 1), reason: migv1.Deployed,
			message: []string{"image registry/velero:v1, AWS plugin registry/plugin:v1", "1 of 1 replicas available"}},
		"replicas unset means one": {d: deployment(1, 1, nil, 1, 1), reason: migv1.Deployed},
		"new generation not observed yet": {d: deployment(3, 2, ptr.To[int32](1), 1, 1), reason: migv1.Deploying,
			message: []string{"rolling out"}},
		"pods do not start, and why": {d: deployment(1, 1, ptr.To[int32](1), 1, 0), problems: "Pod velero-x container velero: ImagePullBackOff",
			reason: migv1.Deploying, message: []string{"0 available", "ImagePullBackOff"}},
		"scaled to zero": {d: deployment(1, 1, ptr.To[int32](0), 0, 0), reason: migv1.Deploying,
			message: []string{"scaled to zero"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := rolloutState(c.d, want, func() string { return c.problems })
			if !got.wanted || got.reason != c.reason {
				t.Fatalf("state %+v, want reason %s", got, c.reason)
			}
			for _, m := range c.message {
				if !strings.Contains(got.message, m) {
					t.Errorf("message %q does not say %q", got.message, m)
				}
			}
			if got.requeue <= 0 {
				t.Errorf("no requeue: %+v", got)
			}
		})
	}
}
