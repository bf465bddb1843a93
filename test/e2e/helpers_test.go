package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

const (
	// testTimeout bounds each test; they take seconds.
	testTimeout = 2 * time.Minute
	// waitTimeout bounds each wait for a pod, a claim or an endpoint.
	waitTimeout = time.Minute
)

// namespace creates a namespace for the test on c, deleted when the test ends.
func namespace(ctx context.Context, t *testing.T, c *cluster) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.Clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s on %s: %v", name, c.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Clientset.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	})
	return name
}

// container is a container running cmd (argv), with a short grace period.
func container(name string, argv ...string) corev1.Container {
	return corev1.Container{Name: name, Image: "ignored.example/" + name, Command: argv}
}

// shell is a container running a shell script.
func shell(name, script string) corev1.Container {
	return container(name, "sh", "-c", script)
}

// newPod is a pod with the given restart policy and containers, a two-second grace period.
func newPod(namespace, name string, policy corev1.RestartPolicy, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{RestartPolicy: policy, Containers: containers,
			TerminationGracePeriodSeconds: ptr.To[int64](2)},
	}
}

func createPod(ctx context.Context, t *testing.T, c *cluster, pod *corev1.Pod) {
	t.Helper()
	if _, err := c.Clientset.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s/%s on %s: %v", pod.Namespace, pod.Name, c.Name, err)
	}
}

// waitPod polls pod namespace/name on c until done says so, and returns it.
func waitPod(ctx context.Context, t *testing.T, c *cluster, namespace, name, what string, done func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		p, err := c.Clientset.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // retried until the timeout
		}
		last = p
		return done(p), nil
	})
	if err != nil {
		t.Fatalf("pod %s/%s on %s not %s: %v; last status: %s", namespace, name, c.Name, what, err, describe(last))
	}
	return last
}

func phaseIs(phase corev1.PodPhase) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool { return p.Status.Phase == phase }
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// describe summarises a pod's status for failure messages.
func describe(p *corev1.Pod) string {
	if p == nil {
		return "never read"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "phase %s, IP %q", p.Status.Phase, p.Status.PodIP)
	for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		fmt.Fprintf(&b, "; %s: restarts %d", cs.Name, cs.RestartCount)
		switch s := cs.State; {
		case s.Waiting != nil:
			fmt.Fprintf(&b, " waiting %s %s", s.Waiting.Reason, s.Waiting.Message)
		case s.Running != nil:
			b.WriteString(" running")
		case s.Terminated != nil:
			fmt.Fprintf(&b, " terminated %s exit %d %s", s.Terminated.Reason, s.Terminated.ExitCode, s.Terminated.Message)
		}
	}
	return b.String()
}

// logs reads a container's log through the API server, as kubectl logs does.
func logs(ctx context.Context, t *testing.T, c *cluster, namespace, pod, container string, previous bool) string {
	t.Helper()
	b, err := c.Clientset.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: previous}).DoRaw(ctx)
	if err != nil {
		t.Fatalf("logs of %s/%s/%s on %s: %v", namespace, pod, container, c.Name, err)
	}
	return string(b)
}

// waitGone waits until pod namespace/name no longer exists on c and returns how long it took.
func waitGone(ctx context.Context, t *testing.T, c *cluster, namespace, name string) time.Duration {
	t.Helper()
	began := time.Now()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := c.Clientset.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("pod %s/%s on %s still exists: %v", namespace, name, c.Name, err)
	}
	return time.Since(began)
}
