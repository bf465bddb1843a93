package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// standardClass is the default storage class: local PVs made by hand on the source, host
// directories provisioned by kube-controller-manager on the destination.
func standardClass(provisioner string) *storagev1.StorageClass {
	return &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: provisioner,
	}
}

// deploySampleApp creates, in each sample namespace of the source, a Deployment whose pod
// mounts a PVC bound to a local PV under volumes and appends a line to a file on it when it
// starts, with a ConfigMap, a Secret and a Service; it waits until the pods have written.
func deploySampleApp(ctx context.Context, cp *controlplane.ControlPlane, volumes string) error {
	for _, ns := range []string{"demo-app", "demo-db"} {
		for _, obj := range appObjects(ns, volumes) {
			if err := cp.Client.Create(ctx, obj); err != nil {
				return fmt.Errorf("create %T %s/%s: %w", obj, ns, obj.GetName(), err)
			}
		}
	}
	if err := fixtures.WaitBound(ctx, cp.Client, 2, time.Minute); err != nil {
		return err
	}
	return waitForFile(ctx, filepath.Join(volumes, "pv-demo-db", "log"), 1)
}

// waitForFile waits until the file has at least lines lines.
func waitForFile(ctx context.Context, path string, lines int) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		data, err := os.ReadFile(path)
		if err == nil && strings.Count(string(data), "\n") >= lines {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no %d lines in %s after a minute: %w", lines, path, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// showVolume prints the file the demo-db pods wrote on their volume: a line from the source
// pod, copied by rsync, then a line from the destination pod, on the destination's copy.
func showVolume(ctx context.Context, out io.Writer, c client.Client) error {
	path, err := fixtures.VolumeDir(ctx, c, "demo-db-migrated", "data")
	if err != nil {
		return err
	}
	path = filepath.Join(path, "log")
	if err := waitForFile(ctx, path, 2); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	say(out, "Volume data/log of demo-db on the destination, written by the source pod (copied by rsync) and by the destination pod:")
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		say(out, "  %s", line)
	}
	return nil
}

func appObjects(ns, volumes string) []client.Object {
	labels := map[string]string{"app": ns}
	pvObj, pvcObj := fixtures.BoundVolume(ns, "data", "pv-"+ns, "1Gi")
	pvObj.Spec.Local.Path = filepath.Join(volumes, pvObj.Name)
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
				Containers: []corev1.Container{{Name: "web", Image: "web", Env: []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{
					FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}, {Name: "NS", ValueFrom: &corev1.EnvVarSource{
					FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}},
					Command:      []string{"sh", "-c", "echo \"$(date -u +%T) pod $NS/$POD started\" >> /data/log; trap 'exit 0' TERM; while :; do sleep 1; done"},
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
