package directvolumemigration

import (
	"strings"
	"testing"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// TestResizeConditionsSayWhyVolumesWereNotMeasured: the warning tells an admin what to do —
// nothing when no pod mounted the volume, bind ferry-pv-resizing when the token was refused.
func TestResizeConditionsSayWhyVolumesWereNotMeasured(t *testing.T) {
	for _, tc := range []struct {
		name      string
		forbidden bool
		want      string
	}{
		{"no pod mounts the volume", false, "no running pod mounts them"},
		{"the token may not read kubelet statistics", true, "bind its ServiceAccount to ClusterRole ferry-pv-resizing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Scope{unmeasured: []string{"ns/b", "ns/a"}, usageForbidden: tc.forbidden}
			got := s.resizeConditions()
			if len(got) != 1 || got[0].Type != migv1.PvUsageAnalysisFailed {
				t.Fatalf("conditions %+v, want one %s", got, migv1.PvUsageAnalysisFailed)
			}
			if !strings.Contains(got[0].Message, tc.want) || !strings.HasSuffix(got[0].Message, "[ns/a, ns/b]") {
				t.Errorf("message %q lacks %q or the sorted volumes", got[0].Message, tc.want)
			}
		})
	}
}
