package node_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/node"
	"github.com/ferrymtc/ferry/test/registry"
)

// TestImageRootfs runs pods of an image with files (a static probe program and a data
// directory owned by the image's user): the container's root is the image's own file system
// (the host's directories are not there), owners and modes as the layers say, /proc, /dev,
// /etc/hosts, /etc/hostname and /etc/resolv.conf as the node makes them, volumes at their
// paths, the image's USER; what one container writes outside its volumes is gone for the
// next. An image whose layers hold no files keeps running its entrypoint as a host command.
func TestImageRootfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the process node needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	probe := filepath.Join(t.TempDir(), "probe")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", probe, "./testdata/rootfsprobe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the probe: %v\n%s", err, out)
	}
	img := probeImage(t, probe)
	cp := controlplane.StartForTest(t, "node-rootfs")
	reg := registry.StartForTest(ctx, t, cp, registry.Options{})
	n, err := node.Start(ctx, cp.Config, node.Options{Name: "node-rootfs", Logf: t.Logf, Images: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	if _, err := cp.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	digest, err := reg.Push(ctx, "apps/probe", "v1", img)
	if err != nil {
		t.Fatal(err)
	}
	hostDir := t.TempDir()
	if err := os.Chmod(hostDir, 0o777); err != nil { //nolint:gosec // the image's user writes here.
		t.Fatal(err)
	}
	pods := cp.Clientset.CoreV1().Pods("apps")
	run := func(name string, args []string) map[string]string {
		t.Helper()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name}, Spec: corev1.PodSpec{
			NodeName: n.Name(), RestartPolicy: corev1.RestartPolicyNever, AutomountServiceAccountToken: ptr.To(false),
			Containers: []corev1.Container{{
				Name: "main", Image: registry.InternalHost + "/apps/probe@" + digest, Args: args,
				Env:          []corev1.EnvVar{{Name: "HOST_PATH", Value: hostDir}},
				VolumeMounts: []corev1.VolumeMount{{Name: "out", MountPath: "/out"}},
			}},
			Volumes: []corev1.Volume{{Name: "out", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}}}},
		}}
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var last *corev1.Pod
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			last, err = pods.Get(ctx, name, metav1.GetOptions{})
			return err == nil && (last.Status.Phase == corev1.PodSucceeded || last.Status.Phase == corev1.PodFailed), nil
		})
		if err != nil || last.Status.Phase != corev1.PodSucceeded {
			t.Fatalf("pod %s did not succeed: %v; status %+v", name, err, last.Status)
		}
		raw, err := pods.GetLogs(name, &corev1.PodLogOptions{Container: "main"}).DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		report := map[string]string{}
		if err := json.Unmarshal(raw, &report); err != nil {
			t.Fatalf("pod %s: the probe's report %q: %v", name, raw, err)
		}
		t.Logf("pod %s sees %v", name, report)
		return report
	}
	_, resolvErr := os.Stat("/etc/resolv.conf")
	want := map[string]string{
		"uid": "65532", "marker": "from the image", "new-file": "false", "hostname": "writer",
		"proc": "true", "dev-null": "true", "host-path": "false", "resolv.conf": "true",
	}
	if resolvErr != nil {
		want["resolv.conf"] = "false" // the node copies the host's, which has none
	}
	got := run("writer", []string{"write"})
	for k, v := range want {
		if got[k] != v {
			t.Errorf("writer: %s is %q, want %q", k, got[k], v)
		}
	}
	if !strings.Contains(got["hosts"], "writer") {
		t.Errorf("writer: /etc/hosts does not name the pod: %q", got["hosts"])
	}
	for k, v := range got {
		if strings.HasPrefix(k, "write ") {
			t.Errorf("writer: %s: %s", k, v)
		}
	}
	if b, err := os.ReadFile(filepath.Join(hostDir, "from-the-container")); err != nil || string(b) != "written" {
		t.Errorf("the volume at /out did not get the container's file: %q, %v", b, err)
	}

	// The next container of the image sees the image as it was.
	got = run("reader", nil)
	for k, v := range map[string]string{"marker": "from the image", "new-file": "false", "hostname": "reader"} {
		if got[k] != v {
			t.Errorf("reader: %s is %q, want %q (writes of another container must not show)", k, got[k], v)
		}
	}

	// Layers without files: the entrypoint is a host command, as before.
	blank, err := mutate.AppendLayers(empty.Image, emptyLayer(t))
	if err == nil {
		blank, err = mutate.Config(blank, v1.Config{Entrypoint: []string{"sleep"}, Cmd: []string{"3600"}})
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(ctx, "apps/blank", "v1", blank); err != nil {
		t.Fatal(err)
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "blank"}, Spec: corev1.PodSpec{
		NodeName: n.Name(), AutomountServiceAccountToken: ptr.To(false), TerminationGracePeriodSeconds: ptr.To[int64](1),
		Containers: []corev1.Container{{Name: "main", Image: registry.InternalHost + "/apps/blank:v1"}},
	}}
	if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, ok := n.ContainerPID("apps", "blank", "main")
		return ok, nil
	})
	if err != nil {
		t.Fatalf("the image without files does not run the host's sleep: %v", err)
	}
}

// probeImage is an image of the probe at /bin/probe (its entrypoint) and /data/marker, both
// in a directory owned by the image's user 65532.
func probeImage(t *testing.T, probe string) v1.Image {
	t.Helper()
	bin, err := os.ReadFile(probe) //nolint:gosec // built by the test.
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		uid  int
		data []byte
		dir  bool
	}{
		{name: "bin", mode: 0o755, dir: true},
		{name: "bin/probe", mode: 0o755, data: bin},
		{name: "data", mode: 0o755, uid: 65532, dir: true},
		{name: "data/marker", mode: 0o644, uid: 65532, data: []byte("from the image\n")},
		{name: "tmp", mode: 0o1777, dir: true},
	} {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.uid, Typeflag: tar.TypeReg, Size: int64(len(f.data))}
		if f.dir {
			h.Typeflag, h.Name = tar.TypeDir, f.name+"/"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err == nil {
		img, err = mutate.Config(img, v1.Config{Entrypoint: []string{"/bin/probe"}, User: "65532"})
	}
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// emptyLayer is a layer whose tar holds nothing.
func emptyLayer(t *testing.T) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	if err := tar.NewWriter(&buf).Close(); err != nil {
		t.Fatal(err)
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}
