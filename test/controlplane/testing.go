package controlplane

import "testing"

// StartForTest starts a named control plane for the length of the test t: it fails t when
// the control plane does not start and stops it on cleanup.
func StartForTest(t *testing.T, name string, opts ...Option) *ControlPlane {
	t.Helper()
	cp, err := Start(name, opts...)
	if err != nil {
		t.Fatalf("start control plane %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Errorf("stop control plane %s: %v", name, err)
		}
	})
	return cp
}
