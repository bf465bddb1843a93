package migplan

import (
	"context"
	"errors"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	discoveryclient "k8s.io/client-go/discovery"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

var listVerbs = metav1.Verbs{"create", "get", "list", "watch"}

// resources builds a discovery list of namespaced, listable resources.
func resources(groupVersion string, names ...string) *metav1.APIResourceList {
	l := &metav1.APIResourceList{GroupVersion: groupVersion}
	for _, n := range names {
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: n, Namespaced: true, Verbs: listVerbs})
	}
	return l
}

// gvrStrings renders resources as "resource.group/version" for compact assertions.
func gvrStrings(gvrs []schema.GroupVersionResource) []string {
	out := []string{}
	for _, gvr := range gvrs {
		out = append(out, gvr.GroupResource().String()+"/"+gvr.Version)
	}
	return out
}

func TestMissingResources(t *testing.T) {
	core := resources("v1", "pods", "configmaps")
	tests := []struct {
		name     string
		source   []*metav1.APIResourceList
		dest     []*metav1.APIResourceList
		failed   []string
		excluded []string
		want     []string
	}{
		{
			name:   "a resource served only by the source is missing",
			source: []*metav1.APIResourceList{core, resources("example.com/v1", "widgets")},
			dest:   []*metav1.APIResourceList{core},
			want:   []string{"widgets.example.com/v1"},
		},
		{
			name:   "any version on the destination serves it",
			source: []*metav1.APIResourceList{resources("example.com/v2", "widgets")},
			dest:   []*metav1.APIResourceList{resources("example.com/v1beta1", "widgets")},
			want:   []string{},
		},
		{
			name:   "the same resource name in another group does not serve it",
			source: []*metav1.APIResourceList{resources("example.com/v1", "deployments")},
			dest:   []*metav1.APIResourceList{resources("apps/v1", "deployments")},
			want:   []string{"deployments.example.com/v1"},
		},
		{
			name: "cohabiting groups serve each other",
			source: []*metav1.APIResourceList{
				resources("extensions/v1beta1", "deployments", "ingresses"),
				resources("events.k8s.io/v1", "events"),
			},
			dest: []*metav1.APIResourceList{
				resources("apps/v1", "deployments"), resources("networking.k8s.io/v1", "ingresses"), resources("v1", "events"),
			},
			want: []string{},
		},
		{
			name:   "a cohabiting resource is still missing when neither group serves it",
			source: []*metav1.APIResourceList{resources("extensions/v1beta1", "deployments", "ingresses")},
			dest:   []*metav1.APIResourceList{resources("apps/v1", "deployments")},
			want:   []string{"ingresses.extensions/v1beta1"},
		},
		{
			name: "subresources, cluster-scoped and unlistable resources are ignored",
			source: []*metav1.APIResourceList{{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
				{Name: "widgets/status", Namespaced: true, Verbs: listVerbs},
				{Name: "clusterwidgets", Namespaced: false, Verbs: listVerbs},
				{Name: "widgetreviews", Namespaced: true, Verbs: metav1.Verbs{"create"}},
			}}},
			want: []string{},
		},
		{
			name:   "the destination serving it cluster-scoped does not count",
			source: []*metav1.APIResourceList{resources("example.com/v1", "widgets")},
			dest: []*metav1.APIResourceList{{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
				{Name: "widgets", Namespaced: false, Verbs: listVerbs},
			}}},
			want: []string{"widgets.example.com/v1"},
		},
		{
			name:   "a group the destination failed to discover is assumed served",
			source: []*metav1.APIResourceList{resources("metrics.k8s.io/v1beta1", "pods"), resources("example.com/v1", "widgets")},
			failed: []string{"metrics.k8s.io"},
			want:   []string{"widgets.example.com/v1"},
		},
		{
			name: "excluded resources: a bare name in every group, resource.group in that group only",
			source: []*metav1.APIResourceList{
				resources("example.com/v1", "widgets", "gizmos"),
				resources("other.io/v1", "widgets", "gizmos"),
				resources("events.k8s.io/v1", "events"),
			},
			excluded: []string{"Widgets", "gizmos.example.com", "events"},
			want:     []string{"gizmos.other.io/v1"},
		},
		{
			name: "the result is sorted by group, resource and version",
			source: []*metav1.APIResourceList{
				resources("zeta.io/v1", "alphas"), resources("example.com/v1", "widgets", "gizmos"), resources("v1", "legacies"),
			},
			want: []string{"legacies/v1", "gizmos.example.com/v1", "widgets.example.com/v1", "alphas.zeta.io/v1"},
		},
		{
			name:   "malformed group versions are skipped",
			source: []*metav1.APIResourceList{resources("a/b/c", "widgets")},
			want:   []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served := servedIn(tt.dest)
			for _, g := range tt.failed {
				served.unknownGroups[g] = true
			}
			got := gvrStrings(missingResources(tt.source, served, tt.excluded))
			if !slices.Equal(got, tt.want) {
				t.Errorf("missingResources = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCohabitingTwin(t *testing.T) {
	tests := []struct {
		in, want schema.GroupResource
		ok       bool
	}{
		{in: schema.GroupResource{Group: "extensions", Resource: "deployments"}, want: schema.GroupResource{Group: "apps", Resource: "deployments"}, ok: true},
		{in: schema.GroupResource{Group: "apps", Resource: "replicasets"}, want: schema.GroupResource{Group: "extensions", Resource: "replicasets"}, ok: true},
		{in: schema.GroupResource{Group: "", Resource: "events"}, want: schema.GroupResource{Group: "events.k8s.io", Resource: "events"}, ok: true},
		{in: schema.GroupResource{Group: "apps", Resource: "statefulsets"}},
		{in: schema.GroupResource{Group: "example.com", Resource: "deployments"}},
	}
	for _, tt := range tests {
		got, ok := cohabitingTwin(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("cohabitingTwin(%v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestByNamespace(t *testing.T) {
	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	gizmos := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "gizmos"}
	legacies := schema.GroupVersionResource{Version: "v1", Resource: "legacies"}
	got := byNamespace(map[string][]schema.GroupVersionResource{"shop": {widgets, gizmos}, "blog": {widgets, legacies}})
	want := []migv1.IncompatibleNamespace{
		{Name: "blog", GVKs: []migv1.IncompatibleGVK{{Version: "v1", Kind: "legacies"}, {Group: "example.com", Version: "v1", Kind: "widgets"}}},
		{Name: "shop", GVKs: []migv1.IncompatibleGVK{{Group: "example.com", Version: "v1", Kind: "gizmos"}, {Group: "example.com", Version: "v1", Kind: "widgets"}}},
	}
	if !slices.EqualFunc(got, want, func(a, b migv1.IncompatibleNamespace) bool { return a.Name == b.Name && slices.Equal(a.GVKs, b.GVKs) }) {
		t.Errorf("byNamespace = %+v, want %+v", got, want)
	}
	if got := byNamespace(nil); got != nil {
		t.Errorf("byNamespace(nil) = %+v, want nil so that the status field is cleared", got)
	}
}

func TestGVKsIncompatible(t *testing.T) {
	if got := gvksIncompatible(nil); len(got) != 0 {
		t.Errorf("no incompatible namespaces: got conditions %+v", got)
	}
	got := gvksIncompatible([]migv1.IncompatibleNamespace{{Name: "shop"}})
	if len(got) != 1 || got[0].Type != migv1.GVKsIncompatible || got[0].Category != migv1.CategoryWarn || got[0].Message != gvksIncompatibleMessage {
		t.Errorf("gvksIncompatible = %+v", got)
	}
}

func TestValidateReportsGVKsIncompatible(t *testing.T) {
	f := &facts{plan: &migv1.MigPlan{}, incompatible: []migv1.IncompatibleNamespace{{Name: "shop"}}}
	if !slices.ContainsFunc(validate(f), func(c migv1.Condition) bool { return c.Type == migv1.GVKsIncompatible }) {
		t.Error("validate does not report GVKsIncompatible")
	}
}

func TestTolerateGroupFailures(t *testing.T) {
	ctx := context.Background()
	partial := &discoveryclient.ErrGroupDiscoveryFailed{Groups: map[schema.GroupVersion]error{{Group: "metrics.k8s.io", Version: "v1beta1"}: errors.New("503")}}
	if err := tolerateGroupFailures(ctx, "source", partial); err != nil {
		t.Errorf("a partial discovery failure fails the check: %v", err)
	}
	if err := tolerateGroupFailures(ctx, "source", nil); err != nil {
		t.Errorf("no error: got %v", err)
	}
	refused := errors.New("connection refused")
	if err := tolerateGroupFailures(ctx, "source", refused); !errors.Is(err, refused) {
		t.Errorf("a failed discovery: got %v, want it wrapped", err)
	}
}

func TestGVKsIncompatibleKeptWhileSuspended(t *testing.T) {
	plan := &migv1.MigPlan{}
	plan.Status.Conditions = migv1.Conditions{conditions.Warn(migv1.GVKsIncompatible, "", gvksIncompatibleMessage)}
	desired, _, err := (&Reconciler{}).evaluate(context.Background(), &facts{plan: plan}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !conditions.IsTrue(desired, migv1.GVKsIncompatible) {
		t.Errorf("a suspended plan drops GVKsIncompatible: %v", typesOf(desired))
	}
}
