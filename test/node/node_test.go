package node

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExpand(t *testing.T) {
	vals := map[string]string{"A": "x", "B": "y z"}
	for in, want := range map[string]string{
		"$(A)-$(B)":     "x-y z",
		"$(C) stays":    "$(C) stays",
		"$$(A) escaped": "$(A) escaped",
		"a $ sign":      "a $ sign",
		"open $(A":      "open $(A",
		"end $":         "end $",
	} {
		if got := expand(in, vals); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSeekTail(t *testing.T) {
	for _, tc := range []struct {
		data string
		n    int
		want string
	}{
		{"a\nb\nc\n", 1, "c\n"},
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"a\nb\nc", 1, "c"},
		{"a\nb\nc\n", 0, ""},
		{"", 3, ""},
	} {
		f, err := os.CreateTemp(t.TempDir(), "log")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(tc.data); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if err := seekTail(f, tc.n); err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(f)
		if string(got) != tc.want {
			t.Errorf("last %d lines of %q: %q, want %q", tc.n, tc.data, got, tc.want)
		}
		_ = f.Close()
	}
}

func TestBackoff(t *testing.T) {
	for restarts, want := range map[int32]time.Duration{0: time.Second, 1: 2 * time.Second, 4: 16 * time.Second, 5: 30 * time.Second, 40: 30 * time.Second} {
		if got := backoff(restarts); got != want {
			t.Errorf("backoff(%d) = %s, want %s", restarts, got, want)
		}
	}
}

// TestSweepStale checks that what a killed run left (a network namespace and a directory named
// after its dead PID) is removed, and what a live process owns is kept.
func TestSweepStale(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the process node needs root for network namespaces")
	}
	ctx := context.Background()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := namePrefix + strconv.Itoa(dead.Process.Pid) + "-test"
	live := namePrefix + "1-test" // PID 1 always runs
	for _, name := range []string{stale, live} {
		if err := addNetns(ctx, name); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(os.TempDir(), name), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_ = delNetns(ctx, live)
		_ = os.RemoveAll(filepath.Join(os.TempDir(), live))
		_ = delNetns(ctx, stale)
		_ = os.RemoveAll(filepath.Join(os.TempDir(), stale))
	})
	sweepStale(ctx)
	for _, path := range []string{filepath.Join(netnsDir, stale), filepath.Join(os.TempDir(), stale)} {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s of a dead process survived the sweep (%v)", path, err)
		}
	}
	for _, path := range []string{filepath.Join(netnsDir, live), filepath.Join(os.TempDir(), live)} {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s of a live process was swept: %v", path, err)
		}
	}
}

// TestBackoffStartsOverAfterALongRun checks that quick crashes double the restart delay and that
// a run of backoffReset or more starts it over, so an operator killed now and then by a test
// restarts within a second each time.
func TestBackoffStartsOverAfterALongRun(t *testing.T) {
	w := &podWorker{pod: &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}}}
	c := &ctrState{name: "manager"}
	start := time.Now()
	end := func(ran time.Duration) time.Duration {
		before := time.Now()
		w.ended1(c, &corev1.ContainerStateTerminated{ExitCode: 137,
			StartedAt: metav1.NewTime(start), FinishedAt: metav1.NewTime(start.Add(ran))})
		return c.retryAt.Sub(before).Round(time.Second)
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if got := end(time.Second); got != want {
			t.Fatalf("quick crash %d: restart after %s, want %s", i+1, got, want)
		}
	}
	if got := end(backoffReset); got != time.Second {
		t.Fatalf("crash after a %s run: restart after %s, want 1s", backoffReset, got)
	}
}
