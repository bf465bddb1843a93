package workloads

import (
	"context"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func withClaim(claim string) corev1.PodSpec {
	return corev1.PodSpec{ServiceAccountName: "sa-" + claim, Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}}
}

func TestTemplates(t *testing.T) {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: "app", Name: name} }
	list := func(_ context.Context, l client.ObjectList) error {
		switch l := l.(type) {
		case *appsv1.DeploymentList:
			l.Items = []appsv1.Deployment{{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: withClaim("data")}}}}
		case *appsv1.StatefulSetList:
			l.Items = []appsv1.StatefulSet{{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "pg"}}}}}}
		case *batchv1.CronJobList:
			l.Items = []batchv1.CronJob{{ObjectMeta: meta("report"), Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: withClaim("reports")}}}}}}
		}
		return nil
	}
	got, err := Templates(context.Background(), list)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Deployment/web": "sa-data", "StatefulSet/db": "", "CronJob/report": "sa-reports"}
	if len(got) != len(want) {
		t.Fatalf("got %d templates, want %d: %+v", len(got), len(want), got)
	}
	for _, tmpl := range got {
		sa, ok := want[tmpl.Kind+"/"+tmpl.Name]
		if !ok || tmpl.Spec.ServiceAccountName != sa || tmpl.Namespace != "app" {
			t.Errorf("unexpected template %s/%s in %s with service account %q", tmpl.Kind, tmpl.Name, tmpl.Namespace, tmpl.Spec.ServiceAccountName)
		}
		if tmpl.Kind == "StatefulSet" && (len(tmpl.StatefulSetClaimTemplates) != 1 || tmpl.StatefulSetClaimTemplates[0].Name != "pg") {
			t.Errorf("StatefulSet claim templates %+v", tmpl.StatefulSetClaimTemplates)
		}
	}
	boom := errors.New("forbidden")
	if _, err := Templates(context.Background(), func(context.Context, client.ObjectList) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("a failed list gave %v, want it returned", err)
	}
}
