package node_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/node"
	"github.com/ferrymtc/ferry/test/registry"
)

// TestImagePulls runs pods whose images are in a cluster's internal registry (test/registry):
// a pushed image runs its config's entrypoint and command, with its digest as imageID; a
// missing one waits in ErrImagePull and ImagePullBackOff until it is pushed, then runs with
// the container's args in place of the image's command; an image of another registry keeps
// the node's old rules.
func TestImagePulls(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the process node needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cp := controlplane.StartForTest(t, "node-images")
	reg := registry.StartForTest(ctx, t, cp, registry.Options{})
	n, err := node.Start(ctx, cp.Config, node.Options{Name: "node-images", Logf: t.Logf, Images: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	pods := cp.Clientset.CoreV1().Pods("apps")
	if _, err := cp.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := func(name, image string, command, args []string) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name}, Spec: corev1.PodSpec{
			NodeName: n.Name(), AutomountServiceAccountToken: ptr.To(false), TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers: []corev1.Container{{Name: "main", Image: image, Command: command, Args: args}},
		}}
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	wait1 := func(name, what string, done func(corev1.ContainerStatus) bool) corev1.ContainerStatus {
		t.Helper()
		var last corev1.ContainerStatus
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			p, err := pods.Get(ctx, name, metav1.GetOptions{})
			if err != nil || len(p.Status.ContainerStatuses) == 0 {
				return false, nil //nolint:nilerr // retried until the timeout
			}
			last = p.Status.ContainerStatuses[0]
			return done(last), nil
		})
		if err != nil {
			t.Fatalf("pod %s: %s: %v; last status %+v", name, what, err, last)
		}
		return last
	}
	cmdline := func(name string) string {
		t.Helper()
		pid, ok := n.ContainerPID("apps", name, "main")
		if !ok {
			t.Fatalf("pod %s: no running container", name)
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00"), " ")
	}
	running := func(cs corev1.ContainerStatus) bool { return cs.State.Running != nil }

	// A pushed image: its entrypoint and command run; imageID is its digest.
	digest, err := reg.PushRandomImage(ctx, "apps/sleeper", "v1", registry.ImageSpec{LayerSizes: []int64{4 << 10},
		Entrypoint: []string{"sleep"}, Cmd: []string{"3600"}})
	if err != nil {
		t.Fatal(err)
	}
	pod("sleeper", registry.InternalHost+"/apps/sleeper:v1", nil, nil)
	cs := wait1("sleeper", "run the pushed image", running)
	if want := registry.InternalHost + "/apps/sleeper@" + digest; cs.ImageID != want {
		t.Errorf("imageID %q, want %q", cs.ImageID, want)
	}
	if got := cmdline("sleeper"); got != "sleep 3600" {
		t.Errorf("the container runs %q, want the image's entrypoint and command: sleep 3600", got)
	}

	// A missing image: ErrImagePull with the registry's error, then ImagePullBackOff; once
	// pushed, the next pull succeeds and the container's args replace the image's command.
	pod("later", registry.InternalHost+"/apps/later:v1", nil, []string{"1000"})
	cs = wait1("later", "fail to pull", func(cs corev1.ContainerStatus) bool {
		return cs.State.Waiting != nil && cs.State.Waiting.Reason == "ErrImagePull"
	})
	if !strings.Contains(cs.State.Waiting.Message, "MANIFEST_UNKNOWN") {
		t.Errorf("ErrImagePull message %q, want the registry's MANIFEST_UNKNOWN", cs.State.Waiting.Message)
	}
	wait1("later", "back off", func(cs corev1.ContainerStatus) bool {
		return cs.State.Waiting != nil && cs.State.Waiting.Reason == "ImagePullBackOff" &&
			strings.Contains(cs.State.Waiting.Message, "MANIFEST_UNKNOWN")
	})
	if _, err := reg.PushRandomImage(ctx, "apps/later", "v1", registry.ImageSpec{LayerSizes: []int64{4 << 10},
		Entrypoint: []string{"sleep"}, Cmd: []string{"3600"}}); err != nil {
		t.Fatal(err)
	}
	wait1("later", "run once pushed", running)
	if got := cmdline("later"); got != "sleep 1000" {
		t.Errorf("the container runs %q, want the image's entrypoint with the container's args: sleep 1000", got)
	}

	// Another registry's image: not pulled; the command runs as before.
	pod("elsewhere", "quay.io/example/tool:1", []string{"sleep", "3600"}, nil)
	cs = wait1("elsewhere", "run", running)
	if cs.ImageID != "quay.io/example/tool:1" {
		t.Errorf("imageID of an image the node does not pull: %q", cs.ImageID)
	}
}
