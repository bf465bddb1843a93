package settings

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// FuzzFromSpec feeds arbitrary strings to the loosely typed MigrationController fields: parsing
// must never panic, limits stay positive, and group IDs are never negative.
func FuzzFromSpec(f *testing.F) {
	f.Add("100", "1000,2000", "3")
	f.Add("-1", " 5 , x", "99999999999999999999")
	f.Fuzz(func(t *testing.T, limit, groups, threshold string) {
		s := FromSpec(&migv1.MigrationControllerSpec{
			MigNamespaceLimit:     ptrTo(intstr.FromString(limit)),
			SrcSupplementalGroups: ptrTo(intstr.FromString(groups)),
			PVResizingThreshold:   ptrTo(intstr.FromString(threshold)),
		})
		if s.NamespaceLimit <= 0 || s.PVResizingThreshold <= 0 || s.PVResizingThreshold >= 100 {
			t.Fatalf("limits out of range: %d, %d", s.NamespaceLimit, s.PVResizingThreshold)
		}
		for _, g := range s.SourceSupplementalGroups {
			if g < 0 {
				t.Fatalf("negative group %d from %q", g, groups)
			}
		}
	})
}

func ptrTo(v intstr.IntOrString) *intstr.IntOrString { return &v }
