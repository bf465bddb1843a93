package transfer

import (
	"testing"

	"k8s.io/utils/ptr"
)

func TestNamespaceIDs(t *testing.T) {
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		user, group *int64
		err         bool
	}{
		{"not OpenShift", nil, nil, nil, false},
		{"user range only", map[string]string{UIDRangeAnnotation: "1000650000/10000"}, ptr.To[int64](1000650000), ptr.To[int64](1000650000), false},
		{"both", map[string]string{UIDRangeAnnotation: "1000650000/10000", SupplementalGroupsAnnotation: "1000700000/10000"},
			ptr.To[int64](1000650000), ptr.To[int64](1000700000), false},
		{"several group ranges, first-last notation", map[string]string{UIDRangeAnnotation: "1000650000/10000",
			SupplementalGroupsAnnotation: "5000-5999,1000700000/10000"}, ptr.To[int64](1000650000), ptr.To[int64](5000), false},
		{"malformed", map[string]string{UIDRangeAnnotation: "many"}, nil, nil, true},
		{"no size", map[string]string{UIDRangeAnnotation: "1000650000"}, nil, nil, true},
		{"zero", map[string]string{SupplementalGroupsAnnotation: "0/10"}, nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, group, err := NamespaceIDs(tc.annotations)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if ptr.Deref(user, -1) != ptr.Deref(tc.user, -1) || ptr.Deref(group, -1) != ptr.Deref(tc.group, -1) {
				t.Errorf("user %v group %v, want %v %v", ptr.Deref(user, -1), ptr.Deref(group, -1), ptr.Deref(tc.user, -1), ptr.Deref(tc.group, -1))
			}
		})
	}
}
