package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
)

func standardClass() *storagev1.StorageClass {
	return &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: "kubernetes.io/no-provisioner",
	}
}

// deploySampleApp creates, in each sample namespace of the source, a Deployment whose pod
// mounts a PVC bound to a local PV, with a ConfigMap, a Secret and a Service. (The pods stay
// Pending until the local clusters run pods.)
func deploySampleApp(ctx context.Context, cp *controlplane.ControlPlane) error {
	for _, ns := range []string{"demo-app", "demo-db"} {
		for _, obj := range appObjects(ns) {
			if err := cp.Client.Create(ctx, obj); err != nil {
				return fmt.Errorf("create %T %s/%s: %w", obj, ns, obj.GetName(), err)
			}
		}
	}
	return fixtures.WaitBound(ctx, cp.Client, 2, time.Minute)
}

func appObjects(ns string) []client.Object {
	labels := map[string]string{"app": ns}
	pvObj, pvcObj := fixtures.BoundVolume(ns, "data", "pv-"+ns, "1Gi")
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"}, Data: map[string]string{"greeting": "hello"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "password"}, StringData: map[string]string{"password": "s3cret"}},
		pvObj, pvcObj,
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: corev1.ServiceSpec{
			Selector: labels, Ports: []corev1.ServicePort{{Port: 8080}}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "web", Image: "web", Command: []string{"sh", "-c", "date >> /data/log; sleep infinity"},
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
				Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}},
			}},
		}},
	}
}

// describePlan prints what the plan will migrate, as a user reads it in its spec.
func describePlan(out io.Writer, plan *migv1.MigPlan) {
	say(out, "MigPlan %s is Ready. It migrates namespaces [%s] and these volumes:", plan.Name, strings.Join(plan.Spec.Namespaces, ", "))
	for _, pv := range plan.Spec.PersistentVolumes {
		say(out, "  %s/%s (%s, %s): %s by %s to storage class %q", pv.PVC.Namespace, pv.PVC.Name, pv.Name,
			pv.Capacity.String(), pv.Selection.Action, pv.Selection.CopyMethod, pv.Selection.StorageClass)
	}
}
