package settings

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestRsyncOptions(t *testing.T) {
	cases := []struct {
		name string
		spec *migv1.MigrationControllerSpec
		want RsyncOptions
	}{
		{"defaults", nil, RsyncOptions{Archive: true, HardLinks: true, Delete: true, Partial: true}},
		{"turned off", &migv1.MigrationControllerSpec{RsyncOptArchive: ptr.To(false), RsyncOptDelete: ptr.To(false)},
			RsyncOptions{HardLinks: true, Partial: true}},
		{"bandwidth and extras", &migv1.MigrationControllerSpec{RsyncOptBwlimit: ptr.To(intstr.FromString("2048")), RsyncOptExtras: "--sparse"},
			RsyncOptions{Archive: true, HardLinks: true, Delete: true, Partial: true, BwLimit: 2048, Extras: "--sparse"}},
	}
	for _, tc := range cases {
		if got := FromSpec(tc.spec).Rsync; got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
