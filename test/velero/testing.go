package velero

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/s3"
)

// testLogTail is how much of a server's log a failed test prints.
const testLogTail = 8 << 10

// StartForTest runs a Velero server for cp in namespace on bucket of store, for the length of
// the test t: it fails t when the server does not start, and on cleanup prints the tail of the
// server's log if t failed, then stops the server.
func StartForTest(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, store *s3.Server, namespace, bucket string) *Server {
	t.Helper()
	kubeconfig := filepath.Join(t.TempDir(), cp.Name+".kubeconfig")
	if err := cp.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatalf("kubeconfig for %s: %v", cp.Name, err)
	}
	srv, err := Start(ctx, Options{Kubeconfig: kubeconfig, Namespace: namespace, S3: store, Bucket: bucket})
	if err != nil {
		t.Fatalf("start velero for %s: %v", cp.Name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("velero log tail of %s:\n%s", cp.Name, srv.LogTail(testLogTail))
		}
		if err := srv.Stop(); err != nil {
			t.Errorf("stop velero of %s: %v", cp.Name, err)
		}
	})
	return srv
}
