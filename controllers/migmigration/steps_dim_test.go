package migmigration

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestDIMProgress(t *testing.T) {
	item := func(ns, name string, p *migv1.ImageCopyProgress) *migv1.ImageStreamListItem {
		return &migv1.ImageStreamListItem{ObjectReference: &corev1.ObjectReference{Namespace: ns, Name: name},
			DirectMigration: &corev1.ObjectReference{Namespace: "openshift-migration", Name: "m-dim-" + name}, Progress: p}
	}
	dim := &migv1.DirectImageMigration{Status: migv1.DirectImageMigrationStatus{
		NewISs:        []*migv1.ImageStreamListItem{item("shop", "web", &migv1.ImageCopyProgress{TotalImages: 3, CopiedImages: 1, TotalBytes: 300e6, CopiedBytes: 120e6, SkippedBytes: 80e6, BytesPerSecond: 12e6})},
		SuccessfulISs: []*migv1.ImageStreamListItem{item("shop", "api", nil)},
		DeletedISs:    []*migv1.ImageStreamListItem{item("shop", "old", nil)},
		Progress:      &migv1.ImageCopyProgress{TotalImages: 3, CopiedImages: 1, TotalBytes: 300e6, CopiedBytes: 120e6},
	}}
	want := []string{
		"3 total ImageStreams; 1 running; 1 successful; 0 failed; 1 deleted; 1/3 images, 120MB of 300MB copied",
		"ImageStream shop/web (dism openshift-migration/m-dim-web): Running, 1/3 images, 120MB of 300MB copied (80MB already there), 12MB/s",
		"ImageStream shop/api (dism openshift-migration/m-dim-api): Completed",
		"ImageStream shop/old (dism openshift-migration/m-dim-old): Deleted",
	}
	if got := dimProgress(dim); !slices.Equal(got, want) {
		t.Errorf("progress:\n%q\nwant\n%q", got, want)
	}
}
