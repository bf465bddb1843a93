package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/ferrymtc/ferry/test/fixtures"
)

// TestClaimKeepsData checks persistent volumes: a PVC binds, a pod writes to it (after an init
// container filled an emptyDir), the data lands in the PV's host directory, and a second pod
// reads it back.
func TestClaimKeepsData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ns := namespace(ctx, t, source)
	dir := t.TempDir()
	pv, pvc := fixtures.BoundVolume(ns, "data", "pv-"+ns, "1Gi")
	pv.Spec.Local.Path = dir
	if _, err := source.Clientset.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = source.Clientset.CoreV1().PersistentVolumes().Delete(context.Background(), pv.Name, metav1.DeleteOptions{})
	})
	if _, err := source.Clientset.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		got, err := source.Clientset.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.ClaimBound, nil
	})
	if err != nil {
		t.Fatalf("PVC data not bound: %v", err)
	}

	claim := corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}
	scratch := corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	initC := shell("prepare", `echo "prepared by $HOSTNAME" > /scratch/note`)
	initC.VolumeMounts = []corev1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}}
	write := shell("write", `cat /scratch/note > /var/lib/app/data.txt && echo "secret of `+ns+`" >> /var/lib/app/data.txt`)
	write.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/app"}, {Name: "scratch", MountPath: "/scratch"}}
	writer := newPod(ns, "writer", corev1.RestartPolicyNever, write)
	writer.Spec.InitContainers = []corev1.Container{initC}
	writer.Spec.Volumes = []corev1.Volume{claim, scratch}
	began := time.Now()
	createPod(ctx, t, source, writer)
	waitPod(ctx, t, source, ns, "writer", "Succeeded", phaseIs(corev1.PodSucceeded))
	t.Logf("writer pod (init container, then container) Succeeded %s after creation", time.Since(began).Round(time.Millisecond))

	want := "prepared by writer\nsecret of " + ns + "\n"
	got, err := os.ReadFile(filepath.Join(dir, "data.txt"))
	if err != nil || string(got) != want {
		t.Fatalf("PV directory holds %q (%v), want %q", got, err, want)
	}
	// The mount point existed only in the pod's mount namespace.
	if _, err := os.Stat("/var/lib/app"); !os.IsNotExist(err) {
		t.Errorf("the pod's mount point /var/lib/app appeared on the host (stat: %v)", err)
	}

	read := container("read", "cat", "/data/data.txt")
	read.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data", ReadOnly: true}}
	reader := newPod(ns, "reader", corev1.RestartPolicyNever, read)
	reader.Spec.Volumes = []corev1.Volume{claim}
	createPod(ctx, t, source, reader)
	waitPod(ctx, t, source, ns, "reader", "Succeeded", phaseIs(corev1.PodSucceeded))
	if got := logs(ctx, t, source, ns, "reader", "read", false); got != want {
		t.Errorf("second pod read %q from the claim, want %q", got, want)
	}
}

// TestEnvAndConfigVolumes checks what a container sees: env from values, references,
// ConfigMaps, Secrets and the downward API; ConfigMap, Secret, downward API and projected
// volumes (read-only); a service-account token; and a private root whose writes stay off the
// host.
func TestEnvAndConfigVolumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ns := namespace(ctx, t, source)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cfg"},
		Data: map[string]string{"greeting": "hello", "mode": "fast"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sec"},
		Data: map[string][]byte{"password": []byte("s3cret")}}
	if _, err := source.Clientset.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := source.Clientset.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hostMarker := "/etc/ferry-e2e-" + ns
	script := strings.Join([]string{
		`echo "env: $GREETING $PASSWORD $CFG_mode $FULL $POD $NS $NODE $IP"`,
		`echo "ip: $(ip -4 -o addr show eth0 | awk '{print $4}')"`,
		`echo "files: $(cat /etc/cfg/greeting) $(cat /etc/sec/password) $(cat /etc/podinfo/name)"`,
		`echo "labels: $(tr '\n' ' ' < /etc/podinfo/labels)"`,
		`echo "projected: $(cat /etc/projected/greeting) $(test -s /etc/projected/token && echo token) $(grep -c "BEGIN CERTIFICATE" /etc/projected/ca.crt)"`,
		`echo "serviceaccount: $(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)"`,
		`touch /etc/cfg/new 2>/dev/null && echo "cfg: writable" || echo "cfg: read-only"`,
		`echo private > ` + hostMarker + ` && echo "root: $(cat ` + hostMarker + `)"`,
		`echo "hostname: $(hostname)"`,
	}, "; ")
	c := shell("show", script)
	c.EnvFrom = []corev1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}
	field := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	c.Env = []corev1.EnvVar{
		{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "greeting"}}},
		{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "password"}}},
		{Name: "FULL", Value: "$(GREETING)-world"},
		{Name: "POD", ValueFrom: field("metadata.name")},
		{Name: "NS", ValueFrom: field("metadata.namespace")},
		{Name: "NODE", ValueFrom: field("spec.nodeName")},
		{Name: "IP", ValueFrom: field("status.podIP")},
	}
	c.VolumeMounts = []corev1.VolumeMount{
		{Name: "cfg", MountPath: "/etc/cfg"}, {Name: "sec", MountPath: "/etc/sec"},
		{Name: "podinfo", MountPath: "/etc/podinfo"}, {Name: "projected", MountPath: "/etc/projected"},
	}
	pod := newPod(ns, "show", corev1.RestartPolicyNever, c)
	pod.Labels["tier"] = "test"
	pod.Spec.ServiceAccountName = "default"
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
		{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec"}}},
		{Name: "podinfo", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
		}}}},
		{Name: "projected", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3600)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
				Items: []corev1.KeyToPath{{Key: "greeting", Path: "greeting"}}}},
		}}}},
	}
	createPod(ctx, t, source, pod)
	done := waitPod(ctx, t, source, ns, "show", "Succeeded", phaseIs(corev1.PodSucceeded))
	ip := done.Status.PodIP
	want := strings.Join([]string{
		"env: hello s3cret fast hello-world show " + ns + " node-1 " + ip,
		"ip: " + ip + "/24",
		"files: hello s3cret show",
		`labels: app="show" tier="test" `,
		"projected: hello token 1",
		"serviceaccount: " + ns,
		"cfg: read-only",
		"root: private",
		"hostname: show",
	}, "\n") + "\n"
	if got := logs(ctx, t, source, ns, "show", "show", false); got != want {
		t.Errorf("the container saw\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(hostMarker); !os.IsNotExist(err) {
		_ = os.Remove(hostMarker)
		t.Errorf("a file the pod wrote to /etc reached the host (stat: %v)", err)
	}
}
