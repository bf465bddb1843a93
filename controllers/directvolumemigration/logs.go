package directvolumemigration

import (
	"context"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/ferrymtc/ferry/pkg/transfer"
)

const (
	// logTailLines is how much of a client's log is read: enough for rsync's statistics and
	// the stunnel log the client script appends on failure. progress2 rewrites one line with
	// \r, so the last lines also hold the latest progress.
	logTailLines = 60
	// logKeepBytes bounds what is kept of those lines (the progress line grows by ~60 bytes
	// a second until rsync ends it).
	logKeepBytes = 64 << 10
	// logMaxBytes bounds what is read at all.
	logMaxBytes = 16 << 20
	// logTimeout bounds one log read.
	logTimeout = 15 * time.Second
)

// readLog returns the end of the rsync container's log of a client pod.
func readLog(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, logTimeout)
	defer cancel()
	req := cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{
		Container: transfer.ContainerRsync, TailLines: ptr.To[int64](logTailLines),
	})
	stream, err := req.Stream(ctx)
	if err != nil {
		return "", fmt.Errorf("read log of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	defer func() { _ = stream.Close() }()
	return tail(io.LimitReader(stream, logMaxBytes), logKeepBytes)
}

// tail reads r to the end and returns its last n bytes.
func tail(r io.Reader, n int) (string, error) {
	buf := make([]byte, 0, 2*n)
	chunk := make([]byte, 32<<10)
	for {
		k, err := r.Read(chunk)
		buf = append(buf, chunk[:k]...)
		if len(buf) > 2*n {
			buf = append(buf[:0], buf[len(buf)-n:]...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read log: %w", err)
		}
	}
	if len(buf) > n {
		buf = buf[len(buf)-n:]
	}
	return string(buf), nil
}
