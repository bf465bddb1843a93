package imagestream

import (
	"reflect"
	"testing"
)

const internal = "image-registry.openshift-image-registry.svc:5000"

func TestLocalImages(t *testing.T) {
	ref := func(repo, digest string) TagEvent {
		return TagEvent{DockerImageReference: internal + "/" + repo + "@" + digest, Image: digest}
	}
	cases := []struct {
		name string
		st   Status
		want []LocalImage
	}{
		{name: "no tags"},
		{
			name: "history oldest first, the newest carries the tag",
			st: Status{Tags: []TagHistory{{Tag: "latest", Items: []TagEvent{
				ref("shop/web", "sha256:bbb"), ref("shop/web", "sha256:aaa"),
			}}}},
			want: []LocalImage{{Repository: "shop/web", Digest: "sha256:aaa"}, {Repository: "shop/web", Digest: "sha256:bbb", Tags: []string{"latest"}}},
		},
		{
			name: "two tags on one digest are one copy with both tags",
			st: Status{Tags: []TagHistory{
				{Tag: "latest", Items: []TagEvent{ref("shop/web", "sha256:aaa")}},
				{Tag: "v1", Items: []TagEvent{ref("shop/web", "sha256:aaa")}},
			}},
			want: []LocalImage{{Repository: "shop/web", Digest: "sha256:aaa", Tags: []string{"latest", "v1"}}},
		},
		{
			name: "external images stay where they are",
			st: Status{Tags: []TagHistory{{Tag: "base", Items: []TagEvent{
				{DockerImageReference: "quay.io/org/base@sha256:ccc", Image: "sha256:ccc"},
			}}}},
		},
		{
			name: "a reference by tag uses the event's image digest",
			st: Status{Tags: []TagHistory{{Tag: "v2", Items: []TagEvent{
				{DockerImageReference: internal + "/shop/web:v2", Image: "sha256:ddd"},
			}}}},
			want: []LocalImage{{Repository: "shop/web", Digest: "sha256:ddd", Tags: []string{"v2"}}},
		},
		{
			name: "an event without a digest is skipped",
			st:   Status{Tags: []TagHistory{{Tag: "v3", Items: []TagEvent{{DockerImageReference: internal + "/shop/web:v3"}}}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := LocalImages(tc.st, internal); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LocalImages = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRegistryHost(t *testing.T) {
	for in, want := range map[string]string{
		internal + "/shop/web":     internal,
		"172.30.1.1:5000/shop/web": "172.30.1.1:5000",
		"shop/web":                 "",
		"":                         "",
		"localhost/shop/web":       "localhost",
	} {
		if got := RegistryHost(in); got != want {
			t.Errorf("RegistryHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRewrite(t *testing.T) {
	r := Rewriter{Source: internal, Destination: "registry.dest:5000", Namespaces: map[string]string{"shop": "store"}}
	cases := []struct {
		in, want string
		changed  bool
	}{
		{internal + "/shop/web@sha256:aaa", "registry.dest:5000/store/web@sha256:aaa", true},
		{internal + "/shop/web:latest", "registry.dest:5000/store/web:latest", true},
		{internal + "/other/web:latest", "registry.dest:5000/other/web:latest", true},
		{"quay.io/shop/web:latest", "quay.io/shop/web:latest", false},
		{internal + "-evil.example/shop/web:latest", internal + "-evil.example/shop/web:latest", false},
	}
	for _, tc := range cases {
		got, changed := r.Rewrite(tc.in)
		if got != tc.want || changed != tc.changed {
			t.Errorf("Rewrite(%q) = %q, %v; want %q, %v", tc.in, got, changed, tc.want, tc.changed)
		}
	}
	same := Rewriter{Source: internal, Destination: internal}
	if got, changed := same.Rewrite(internal + "/shop/web:1"); changed || got != internal+"/shop/web:1" {
		t.Errorf("same registry, no mapping: %q, %v", got, changed)
	}
}
