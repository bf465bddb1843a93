package directimagemigration

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestDISMNameIsStableAndValid(t *testing.T) {
	dim := &migv1.DirectImageMigration{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("m", 250)}}
	a, b := dismName(dim, "shop", "web"), dismName(dim, "shop", "web")
	if a != b {
		t.Fatalf("name changed between calls: %s, %s", a, b)
	}
	if a == dismName(dim, "shop", "api") || a == dismName(dim, "shop-web", "") {
		t.Errorf("two streams share the name %s", a)
	}
	if errs := validation.IsDNS1123Subdomain(a); len(errs) > 0 {
		t.Errorf("%s: %v", a, errs)
	}
}

func TestSumProgressCountsRatesOfRunningStreamsOnly(t *testing.T) {
	item := func(p migv1.ImageCopyProgress) *migv1.ImageStreamListItem {
		return &migv1.ImageStreamListItem{Progress: &p}
	}
	st := migv1.DirectImageMigrationStatus{
		NewISs:        []*migv1.ImageStreamListItem{item(migv1.ImageCopyProgress{TotalImages: 2, CopiedImages: 1, TotalBytes: 100, CopiedBytes: 40, BytesPerSecond: 10})},
		SuccessfulISs: []*migv1.ImageStreamListItem{item(migv1.ImageCopyProgress{TotalImages: 3, CopiedImages: 3, TotalBytes: 300, CopiedBytes: 200, SkippedBytes: 100, MountedBlobs: 2, BytesPerSecond: 50})},
		FailedISs:     []*migv1.ImageStreamListItem{{}},
	}
	got := sumProgress(st)
	want := migv1.ImageCopyProgress{TotalImages: 5, CopiedImages: 4, TotalBytes: 400, CopiedBytes: 240, SkippedBytes: 100, MountedBlobs: 2, BytesPerSecond: 10}
	if *got != want {
		t.Errorf("sumProgress = %+v, want %+v", *got, want)
	}
}

func TestNewImageStreamMigrationCarriesMTCsSpecAndLabels(t *testing.T) {
	dim := &migv1.DirectImageMigration{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "m-dim", UID: "dim-uid",
		Labels: map[string]string{"migration.openshift.io/migrated-by-migplan": "plan-uid", "other": "x"}},
		Spec: migv1.DirectImageMigrationSpec{SrcMigClusterRef: &corev1.ObjectReference{Name: "src"}, DestMigClusterRef: &corev1.ObjectReference{Name: "host"}}}
	s := &Scope{DIM: dim}
	item := &migv1.ImageStreamListItem{ObjectReference: &corev1.ObjectReference{Namespace: "shop", Name: "web"}, DestNamespace: "store",
		DirectMigration: &corev1.ObjectReference{Namespace: "openshift-migration", Name: "m-dim-abc"}}
	dism := s.newImageStreamMigration(item, "is-uid")
	if dism.Name != "m-dim-abc" || dism.Spec.DestNamespace != "store" || dism.Spec.ImageStreamRef.Name != "web" || dism.Spec.SrcMigClusterRef.Name != "src" {
		t.Errorf("unexpected DISM %+v", dism)
	}
	for k, v := range map[string]string{"app.kubernetes.io/part-of": "openshift-migration", "directimagemigration": "dim-uid", "imagestream": "is-uid",
		"migration.openshift.io/migrated-by-migplan": "plan-uid"} {
		if dism.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, dism.Labels[k], v)
		}
	}
	if _, ok := dism.Labels["other"]; ok {
		t.Error("a DIM label that is not inherited reached the DISM")
	}
	item.DestNamespace = "shop"
	if got := s.newImageStreamMigration(item, "is-uid").Spec.DestNamespace; got != "" {
		t.Errorf("destNamespace = %q for an unmapped namespace, want empty (MTC's spec)", got)
	}
}

func TestValidate(t *testing.T) {
	ready := func(name, registry string) *migv1.MigCluster {
		return &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: migv1.MigClusterSpec{URL: "https://" + name + ":6443"},
			Status: migv1.MigClusterStatus{RegistryPath: registry, Conditions: migv1.Conditions{{Type: migv1.Ready, Status: migv1.True}}}}
	}
	refs := migv1.DirectImageMigrationSpec{SrcMigClusterRef: &corev1.ObjectReference{Name: "src"}, DestMigClusterRef: &corev1.ObjectReference{Name: "dest"}, Namespaces: []string{"shop"}}
	cases := []struct {
		name string
		o    observed
		want []string
	}{
		{name: "ready", o: observed{src: ready("src", "r1:5000"), dest: ready("dest", "r2:5000")}},
		{name: "no registry path", o: observed{src: ready("src", ""), dest: ready("dest", "r2:5000")}, want: []string{migv1.MissingSourceClusterRegistryPath}},
		{name: "missing clusters", o: observed{}, want: []string{migv1.InvalidSourceClusterRef, migv1.InvalidDestinationClusterRef}},
		{name: "namespace missing on source", o: observed{src: ready("src", "r1"), dest: ready("dest", "r2"), missingNamespaces: []string{"shop"}},
			want: []string{migv1.NamespaceNotFoundOnSourceCluster}},
		{name: "bad namespace entry", o: observed{src: ready("src", "r1"), dest: ready("dest", "r2"), badNamespaces: []string{"a:b:c"}},
			want: []string{migv1.NamespaceListEmpty}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.dim = &migv1.DirectImageMigration{Spec: refs}
			var got []string
			for _, c := range validate(&tc.o) {
				got = append(got, c.Type)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("conditions = %v, want %v", got, tc.want)
			}
		})
	}
}
