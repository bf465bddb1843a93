package directimagestreammigration

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/imagestream"
)

const internal = "image-registry.openshift-image-registry.svc:5000"

func TestCopiesRunInTheBackgroundAndAreForgotten(t *testing.T) {
	c := newCopies()
	key := types.NamespacedName{Namespace: "openshift-migration", Name: "dism"}
	release := make(chan struct{})
	c.start(context.Background(), key, "uid-1", time.Now(), func(ctx context.Context, report func(func(*migv1.ImageCopyProgress))) error {
		report(func(p *migv1.ImageCopyProgress) { p.TotalImages, p.CopiedImages = 2, 1 })
		<-release
		return errors.New("registry unreachable")
	})
	// A second start for the same DISM is ignored: one copy per DISM.
	c.start(context.Background(), key, "uid-1", time.Now(), func(context.Context, func(func(*migv1.ImageCopyProgress))) error {
		t.Error("a second copy started for the same DISM")
		return nil
	})
	waitFor(t, func() bool { st, _ := c.get(key, "uid-1", time.Now()); return st.Progress.CopiedImages == 1 })
	if _, ok := c.get(key, "uid-2", time.Now()); ok {
		t.Error("a DISM recreated under the same name sees the old copy")
	}
	close(release)
	waitFor(t, func() bool { st, _ := c.get(key, "uid-1", time.Now()); return st.Done })
	if st, _ := c.get(key, "uid-1", time.Now()); st.Err == nil || st.Err.Error() != "registry unreachable" {
		t.Errorf("err = %v", st.Err)
	}
	c.forget(key)
	if _, ok := c.get(key, "uid-1", time.Now()); ok {
		t.Error("a forgotten copy is still there")
	}
}

func TestForgetCancelsARunningCopy(t *testing.T) {
	c := newCopies()
	key := types.NamespacedName{Name: "dism"}
	stopped := make(chan struct{})
	c.start(context.Background(), key, "u", time.Now(), func(ctx context.Context, _ func(func(*migv1.ImageCopyProgress))) error {
		<-ctx.Done()
		close(stopped)
		return ctx.Err()
	})
	c.forget(key)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the copy of a forgotten DISM kept running")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}

func TestUnresolvedTags(t *testing.T) {
	src := imagestream.Status{DockerImageRepository: internal + "/shop/web", Tags: []imagestream.TagHistory{
		{Tag: "latest", Items: []imagestream.TagEvent{{DockerImageReference: internal + "/shop/web@sha256:b", Image: "sha256:b"}, {DockerImageReference: internal + "/shop/web@sha256:a", Image: "sha256:a"}}},
		{Tag: "v1", Items: []imagestream.TagEvent{{DockerImageReference: internal + "/shop/web@sha256:a", Image: "sha256:a"}}},
		{Tag: "external", Items: []imagestream.TagEvent{{DockerImageReference: "quay.io/x/y@sha256:c", Image: "sha256:c"}}},
	}}
	dest := imagestream.Status{Tags: []imagestream.TagHistory{
		{Tag: "latest", Items: []imagestream.TagEvent{{Image: "sha256:a"}}}, // Not the newest yet.
		{Tag: "v1", Items: []imagestream.TagEvent{{Image: "sha256:a"}}},
	}}
	if got := unresolvedTags(src, dest); !slices.Equal(got, []string{"latest"}) {
		t.Errorf("unresolved = %v, want [latest]", got)
	}
	dest.Tags[0].Items = append([]imagestream.TagEvent{{Image: "sha256:b"}}, dest.Tags[0].Items...)
	if got := unresolvedTags(src, dest); len(got) != 0 {
		t.Errorf("unresolved = %v, want none", got)
	}
}

func TestDestinationImageStreamMovesSameNamespaceReferences(t *testing.T) {
	src := imagestream.New()
	src.SetNamespace("shop")
	src.SetName("web")
	src.SetLabels(map[string]string{"app": "web"})
	src.Object["spec"] = map[string]any{"lookupPolicy": map[string]any{"local": true}, "tags": []any{
		map[string]any{"name": "prod", "from": map[string]any{"kind": "ImageStreamTag", "name": "web:latest", "namespace": "shop"}},
		map[string]any{"name": "base", "from": map[string]any{"kind": "ImageStreamTag", "name": "ruby:3", "namespace": "openshift"}},
		map[string]any{"name": "ext", "from": map[string]any{"kind": "DockerImage", "name": "quay.io/x/y:1"}},
	}}
	s := &Scope{ImageStream: src, DISM: &migv1.DirectImageStreamMigration{}}
	s.DISM.Labels = map[string]string{"migration.openshift.io/migrated-by-migplan": "plan-uid", "imagestream": "is-uid"}
	out := s.destinationImageStream(types.NamespacedName{Namespace: "store", Name: "web"})
	if out.GetNamespace() != "store" || out.GetLabels()["app"] != "web" || out.GetLabels()["migration.openshift.io/migrated-by-migplan"] != "plan-uid" {
		t.Errorf("metadata %v %v", out.GetNamespace(), out.GetLabels())
	}
	if _, ok := out.GetLabels()["imagestream"]; ok {
		t.Error("the DISM's correlation label reached the ImageStream")
	}
	tags, _, _ := unstructured.NestedSlice(out.Object, "spec", "tags")
	var got []string
	for _, tag := range tags {
		from := tag.(map[string]any)["from"].(map[string]any)
		ns, _ := from["namespace"].(string)
		got = append(got, ns)
	}
	if !reflect.DeepEqual(got, []string{"store", "openshift", ""}) {
		t.Errorf("tag namespaces = %v", got)
	}
	srcTags, _, _ := unstructured.NestedSlice(src.Object, "spec", "tags")
	if srcTags[0].(map[string]any)["from"].(map[string]any)["namespace"] != "shop" {
		t.Error("the source ImageStream was changed")
	}
}
