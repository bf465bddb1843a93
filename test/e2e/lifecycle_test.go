package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestGracefulDeletion checks pod deletion as the kubelet does it: SIGTERM first, SIGKILL
// after the grace period, then the pod object goes.
func TestGracefulDeletion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ns := namespace(ctx, t, source)
	dir := t.TempDir()

	// A process that handles SIGTERM: it records it and exits at once, long before its 30 s.
	polite := newPod(ns, "polite", corev1.RestartPolicyAlways, container("main", podtool, "wait-term", "/out/term.txt"))
	polite.Spec.TerminationGracePeriodSeconds = ptr.To[int64](30)
	polite.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "out", MountPath: "/out"}}
	polite.Spec.Volumes = []corev1.Volume{{Name: "out", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}}}}
	// A shell as a container's first process ignores SIGTERM, as in a real container: it is
	// killed when its 2 s are up.
	stubborn := newPod(ns, "stubborn", corev1.RestartPolicyAlways, shell("main", "echo started; while true; do sleep 0.1; done"))
	for _, p := range []*corev1.Pod{polite, stubborn} {
		createPod(ctx, t, source, p)
	}
	for _, p := range []*corev1.Pod{polite, stubborn} {
		waitPod(ctx, t, source, ns, p.Name, "Running", phaseIs(corev1.PodRunning))
	}
	// The log line is written once the signal handler is in place.
	for _, name := range []string{"polite", "stubborn"} {
		for !strings.Contains(logs(ctx, t, source, ns, name, "main", false), "started") &&
			!strings.Contains(logs(ctx, t, source, ns, name, "main", false), "waiting") {
			time.Sleep(50 * time.Millisecond)
		}
	}
	pid, ok := source.node.ContainerPID(ns, "stubborn", "main")
	if !ok {
		t.Fatal("no process for pod stubborn")
	}

	deleted := time.Now()
	for _, name := range []string{"polite", "stubborn"} {
		if err := source.Clientset.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if took := waitGone(ctx, t, source, ns, "polite"); took > 10*time.Second {
		t.Errorf("pod polite took %s to go although it exits on SIGTERM", took)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "term.txt")); err != nil || string(got) != "TERM\n" {
		t.Errorf("pod polite recorded %q (%v), want TERM: no SIGTERM?", got, err)
	}
	waitGone(ctx, t, source, ns, "stubborn")
	took := time.Since(deleted)
	t.Logf("pod stubborn (ignores SIGTERM, grace 2 s) gone %s after its deletion", took.Round(time.Millisecond))
	if took < 1500*time.Millisecond {
		t.Errorf("pod stubborn went after %s: killed before its 2 s grace period", took)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d of pod stubborn survived its deletion (kill 0: %v)", pid, err)
	}
}

// TestRestartPolicy checks restarts, exit codes, init containers and phases.
func TestRestartPolicy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ns := namespace(ctx, t, source)

	// Fails twice, then succeeds; the emptyDir outlives the restarts.
	flaky := newPod(ns, "flaky", corev1.RestartPolicyOnFailure,
		shell("main", `n=$(( $(cat /state/n 2>/dev/null || echo 0) + 1 )); echo $n > /state/n; echo "run $n"; [ $n -ge 3 ]`))
	flaky.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "state", MountPath: "/state"}}
	flaky.Spec.Volumes = []corev1.Volume{{Name: "state", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	failing := newPod(ns, "failing", corev1.RestartPolicyNever, shell("main", "echo bye; exit 3"))
	missing := newPod(ns, "missing", corev1.RestartPolicyNever, container("main", "/no/such/command"))
	badInit := newPod(ns, "bad-init", corev1.RestartPolicyNever, shell("main", "echo must not run"))
	badInit.Spec.InitContainers = []corev1.Container{shell("first", "exit 0"), shell("second", "exit 7")}
	always := newPod(ns, "always", corev1.RestartPolicyAlways, shell("main", "echo once"))
	for _, p := range []*corev1.Pod{flaky, failing, missing, badInit, always} {
		createPod(ctx, t, source, p)
	}

	got := waitPod(ctx, t, source, ns, "flaky", "Succeeded", phaseIs(corev1.PodSucceeded))
	if cs := got.Status.ContainerStatuses[0]; cs.RestartCount != 2 || cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
		t.Errorf("flaky: %s; want 2 restarts and exit 0", describe(got))
	} else if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 1 {
		t.Errorf("flaky: last termination %+v, want exit 1", last)
	}
	if log := logs(ctx, t, source, ns, "flaky", "main", false); log != "run 3\n" {
		t.Errorf("flaky: log %q, want the third run's", log)
	}
	if log := logs(ctx, t, source, ns, "flaky", "main", true); log != "run 2\n" {
		t.Errorf("flaky: previous log %q, want the second run's", log)
	}

	got = waitPod(ctx, t, source, ns, "failing", "Failed", phaseIs(corev1.PodFailed))
	if term := got.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 3 || term.Reason != "Error" {
		t.Errorf("failing: %s; want exit 3, reason Error", describe(got))
	}

	got = waitPod(ctx, t, source, ns, "missing", "Failed", phaseIs(corev1.PodFailed))
	if term := got.Status.ContainerStatuses[0].State.Terminated; term == nil || term.Reason != "StartError" ||
		!strings.Contains(term.Message, "/no/such/command") {
		t.Errorf("missing: %s; want a StartError naming the command", describe(got))
	}

	got = waitPod(ctx, t, source, ns, "bad-init", "Failed", phaseIs(corev1.PodFailed))
	ics := got.Status.InitContainerStatuses
	if len(ics) != 2 || ics[0].State.Terminated == nil || ics[0].State.Terminated.ExitCode != 0 ||
		ics[1].State.Terminated == nil || ics[1].State.Terminated.ExitCode != 7 ||
		got.Status.ContainerStatuses[0].State.Waiting == nil {
		t.Errorf("bad-init: %s; want init containers exit 0 then 7, and the container never started", describe(got))
	}

	got = waitPod(ctx, t, source, ns, "always", "restarted", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 2
	})
	if got.Status.Phase != corev1.PodRunning {
		t.Errorf("always: %s; want phase Running while it restarts", describe(got))
	}
}
