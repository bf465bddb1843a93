package registry

import (
	"context"
	"testing"

	"github.com/ferrymtc/ferry/test/controlplane"
)

// testLogTail is how much of the registry's log a failed test prints.
const testLogTail = 8 << 10

// StartForTest runs a registry for cp for the length of the test t: it fails t when the
// registry does not start, and on cleanup prints the tail of its log if t failed, then stops
// it. Diagnostics go to t.Logf unless opts.Logf is set.
func StartForTest(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, opts Options) *Registry {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	r, err := Start(ctx, cp, opts)
	if err != nil {
		t.Fatalf("start the registry of %s: %v", cp.Name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("registry log tail of %s:\n%s", r.Name(), r.LogTail(testLogTail))
		}
		_ = r.Stop()
	})
	return r
}
