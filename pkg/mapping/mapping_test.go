package mapping

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in, src, dest string
		ok            bool
	}{
		{"a", "a", "a", true},
		{"a:b", "a", "b", true},
		{"a:a", "a", "a", true},
		{"my-ns.x:other", "my-ns.x", "other", true},
		{"", "", "", false},
		{":", "", "", false},
		{":b", "", "", false},
		{"a:", "", "", false},
		{"a:b:c", "", "", false},
		{"a::b", "", "", false},
		{" a", "", "", false},
		{"a b:c", "", "", false},
		{"a:b\t", "", "", false},
		{"a\n", "", "", false},
		{"a:\u00a0b", "", "", false},
		{"a\x00", "", "", false},
	}
	for _, tc := range cases {
		src, dest, err := Parse(tc.in)
		if tc.ok != (err == nil) || src != tc.src || dest != tc.dest {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q, ok=%v", tc.in, src, dest, err, tc.src, tc.dest, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidMapping) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalidMapping", tc.in, err)
		}
	}
}

// FuzzParse checks that ParseMapping never panics and that what it accepts is
// well formed and round-trips.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"a", "a:b", "a:a", "", ":", "a:", ":b", "a:b:c", " a", "a\tb", "ns-1:ns-2", "é:ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, dest, err := Parse(s)
		if err != nil {
			if src != "" || dest != "" || !errors.Is(err, ErrInvalidMapping) {
				t.Fatalf("Parse(%q) = %q, %q, %v: an error must come alone and wrap ErrInvalidMapping", s, src, dest, err)
			}
			return
		}
		for _, part := range []string{src, dest} {
			if part == "" || strings.Contains(part, ":") ||
				strings.IndexFunc(part, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
				t.Fatalf("Parse(%q) accepted a malformed part %q", s, part)
			}
		}
		if s != src+":"+dest && (s != src || src != dest) {
			t.Fatalf("Parse(%q) = %q, %q does not round-trip", s, src, dest)
		}
	})
}

func TestIntraCluster(t *testing.T) {
	remote := func(name, url string) *migv1.MigCluster {
		return &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: migv1.MigClusterSpec{URL: url}}
	}
	host := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: "host"}, Spec: migv1.MigClusterSpec{IsHostCluster: true}}
	host2 := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: "host2"}, Spec: migv1.MigClusterSpec{IsHostCluster: true}}
	cases := []struct {
		name      string
		src, dest *migv1.MigCluster
		want      bool
	}{
		{"same object", host, host, true},
		{"two host clusters", host, host2, true},
		{"host and remote", remote("a", "https://a:6443"), host, false},
		{"same API server", remote("a", "https://api:6443"), remote("b", "https://api:6443/"), true},
		{"different API servers", remote("a", "https://a:6443"), remote("b", "https://b:6443"), false},
		{"same API server, other case", remote("a", "https://API.example:6443"), remote("b", "https://api.example:6443"), true},
		{"same API server, default port", remote("a", "https://api.example"), remote("b", "https://api.example:443/"), true},
		{"same host, other port", remote("a", "https://api.example:6443"), remote("b", "https://api.example:443"), false},
		{"missing", nil, host, false},
	}
	for _, tc := range cases {
		if got := IntraCluster(tc.src, tc.dest); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestHookNamespaces(t *testing.T) {
	plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration"},
		Spec: migv1.MigPlanSpec{Namespaces: []string{"shop", "db:db-new", "bad:"}}}
	if got := HookNamespaces(plan, migv1.HookTargetSource); !slices.Equal(got, []string{"openshift-migration", "shop", "db"}) {
		t.Errorf("source hook namespaces = %v", got)
	}
	if got := HookNamespaces(plan, migv1.HookTargetDestination); !slices.Equal(got, []string{"openshift-migration", "shop", "db-new"}) {
		t.Errorf("destination hook namespaces = %v", got)
	}
}
