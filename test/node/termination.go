package node

import (
	"bytes"
	"io"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// The kubelet's limits on termination messages: 4096 bytes from the file, and for
// FallbackToLogsOnError the last 80 lines of the log, at most 2048 bytes.
const (
	maxTerminationMessage = 4096
	fallbackLogLines      = 80
	fallbackLogBytes      = 2048
)

// terminationFile creates the host file a container's terminationMessagePath is bound to
// (world-writable, as the kubelet makes it, so that any user of the container can write it)
// and returns its mount.
func terminationFile(dir string, c *corev1.Container) (mountSpec, error) {
	target := c.TerminationMessagePath
	if target == "" {
		target = corev1.TerminationMessagePathDefault
	}
	source := filepath.Join(dir, "termination-log")
	if err := os.WriteFile(source, nil, 0o666); err != nil {
		return mountSpec{}, err
	}
	if err := os.Chmod(source, 0o666); err != nil {
		return mountSpec{}, err
	}
	return mountSpec{Source: source, Target: target, Termination: true}, nil
}

// terminationMessage is the message of a run that ended with exitCode, as the kubelet reads
// it: the termination file, else (FallbackToLogsOnError and a failure) the log's tail.
func (w *podWorker) terminationMessage(c *ctrState, exitCode int) string {
	if msg := readLimited(c.termination, maxTerminationMessage); len(msg) > 0 {
		return string(msg)
	}
	if c.spec.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError || exitCode == 0 {
		return ""
	}
	f, err := os.Open(w.logPath(c.name, c.restarts))
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	if err := seekTail(f, fallbackLogLines); err != nil {
		return ""
	}
	tail, _ := io.ReadAll(f)
	if len(tail) > fallbackLogBytes {
		tail = tail[len(tail)-fallbackLogBytes:]
	}
	return string(bytes.TrimRight(tail, "\n"))
}

func readLimited(path string, limit int64) []byte {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	b, _ := io.ReadAll(io.LimitReader(f, limit))
	return b
}
