package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// deployment is a Deployment of replicas pods running podtool serve on :8080 with text.
func deployment(namespace, name, text string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	c := shell("web", `echo "started $POD_NAME on $NODE_NAME"; exec `+podtool+` serve :8080 `+text)
	c.Env = []corev1.EnvVar{
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
	}
	c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{c}, TerminationGracePeriodSeconds: ptr.To[int64](2)},
			},
		},
	}
}

// readyPods waits until want pods of app are Running and Ready, and returns them.
func readyPods(ctx context.Context, t *testing.T, c *cluster, namespace, app string, want int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		list, err := c.Clientset.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return false, nil //nolint:nilerr // retried until the timeout
		}
		pods = nil
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && isReady(&p) {
				pods = append(pods, p)
			}
		}
		return len(pods) == want && len(list.Items) == want, nil
	})
	if err != nil {
		t.Fatalf("%d ready pods of %s/%s on %s: got %d: %v", want, namespace, app, c.Name, len(pods), err)
	}
	return pods
}

// TestDeploymentRunsAsProcesses checks the basic promise: a Deployment's pods run as host
// processes, their logs are readable through the API server, and scaling to zero ends the
// processes.
func TestDeploymentRunsAsProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ns := namespace(ctx, t, source)
	marker := "hello-" + ns
	began := time.Now()
	if _, err := source.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", marker, 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := readyPods(ctx, t, source, ns, "web", 2)
	t.Logf("2 replicas Running and Ready %s after the Deployment was created", time.Since(began).Round(time.Millisecond))

	var pids []int
	for _, p := range pods {
		if p.Spec.NodeName != source.node.Name() || p.Status.HostIP != source.node.IP() {
			t.Errorf("pod %s: node %q, host IP %q; want %q, %q", p.Name, p.Spec.NodeName, p.Status.HostIP, source.node.Name(), source.node.IP())
		}
		if !strings.HasPrefix(p.Status.PodIP, "10.244.") {
			t.Errorf("pod %s: IP %q is not from the node's pod subnet %s", p.Name, p.Status.PodIP, source.node.PodCIDR())
		}
		pid, ok := source.node.ContainerPID(ns, p.Name, "web")
		if !ok {
			t.Fatalf("pod %s: the node reports no process", p.Name)
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.Contains(string(cmdline), marker) {
			t.Errorf("pod %s: process %d is not the container's command: %q (%v)", p.Name, pid, cmdline, err)
		}
		pids = append(pids, pid)
		// The node reports a running container ready at once (it has no probes), so its
		// second line may still be on its way: the log must reach it, not hold it already.
		want := fmt.Sprintf("started %s on %s\nserving on :8080\n", p.Name, source.node.Name())
		got := ""
		_ = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			got = logs(ctx, t, source, ns, p.Name, "web", false)
			return got == want, nil
		})
		if got != want {
			t.Errorf("logs of %s through the API server: got %q, want %q", p.Name, got, want)
		}
	}
	if t.Failed() {
		return
	}
	followAndTail(ctx, t, ns, pods[0].Name)

	began = time.Now()
	scale, err := source.Clientset.AppsV1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 0
	if _, err := source.Clientset.AppsV1().Deployments(ns).UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		waitGone(ctx, t, source, ns, p.Name)
	}
	t.Logf("scaled to zero: pods gone after %s", time.Since(began).Round(time.Millisecond))
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after its pod was deleted (kill 0: %v)", pid, err)
		}
	}
	if procs := processesWith(marker); len(procs) > 0 {
		t.Errorf("processes of the deleted pods still run: %v", procs)
	}
}

// processesWith lists the PIDs whose command line contains s.
func processesWith(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), s) {
			out = append(out, e.Name())
		}
	}
	return out
}

// followAndTail reads a running container's log as `kubectl logs -f` and `--tail` do.
func followAndTail(ctx context.Context, t *testing.T, ns, pod string) {
	t.Helper()
	opts := &corev1.PodLogOptions{Container: "web", TailLines: ptr.To[int64](1)}
	if got, err := source.Clientset.CoreV1().Pods(ns).GetLogs(pod, opts).DoRaw(ctx); err != nil || string(got) != "serving on :8080\n" {
		t.Errorf("last line of the log of %s: %q (%v)", pod, got, err)
	}
	followCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	stream, err := source.Clientset.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: "web", Follow: true}).Stream(followCtx)
	if err != nil {
		t.Fatalf("follow the log of %s: %v", pod, err)
	}
	defer func() { _ = stream.Close() }()
	// The stream stays open while the container runs: reading past the log's end blocks
	// until the deadline ends it.
	got, err := io.ReadAll(stream)
	if followCtx.Err() == nil {
		t.Errorf("following the log of a running container ended early (%v)", err)
	}
	if !strings.HasSuffix(string(got), "serving on :8080\n") {
		t.Errorf("followed log of %s: %q", pod, got)
	}
}
