package volumestats

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

func TestProposedCapacity(t *testing.T) {
	gi := uint64(1 << 30)
	for _, tc := range []struct {
		name      string
		capacity  string
		usage     Usage
		threshold int
		want      string
		resized   bool
	}{
		{"half full", "10Gi", Usage{UsedBytes: 5 * gi, CapacityBytes: 10 * gi}, 3, "10Gi", false},
		{"exactly at the threshold", "100Gi", Usage{UsedBytes: 97 * gi, CapacityBytes: 100 * gi}, 3, "100Gi", false},
		{"98 % full gets 101 %", "100Gi", Usage{UsedBytes: 98 * gi, CapacityBytes: 100 * gi}, 3, "101Gi", true},
		{"full with 41 % headroom", "1Gi", Usage{UsedBytes: gi, CapacityBytes: gi}, 41, "1444Mi", true},
		{"over-full (filesystem overhead)", "1Gi", Usage{UsedBytes: gi + gi/10, CapacityBytes: gi}, 3, "1158Mi", true},
		{"kubelet without capacity uses the claim's", "2Gi", Usage{UsedBytes: 2 * gi}, 3, "2110Mi", true},
		{"nothing known", "0", Usage{}, 3, "0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, resized := ProposedCapacity(resource.MustParse(tc.capacity), tc.usage, tc.threshold)
			want := resource.MustParse(tc.want)
			if got.Cmp(want) != 0 || resized != tc.resized {
				t.Errorf("ProposedCapacity = %s (%v), want %s (%v)", got.String(), resized, want.String(), tc.resized)
			}
		})
	}
}
