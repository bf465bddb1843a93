package directvolumemigration

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// TestNonRootWarning: every transfer that runs as a non-root user says, durably, what such a
// copy does not keep: not only when root was asked for and refused (F10).
func TestNonRootWarning(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ns := func(name, level string) *corev1.Namespace {
		n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if level != "" {
			n.Labels = map[string]string{podSecurityEnforce: level}
		}
		return n
	}
	openshift := ns("openshift", "restricted")
	openshift.Annotations = map[string]string{"openshift.io/sa.scc.uid-range": "1000650000/10000",
		"openshift.io/sa.scc.supplemental-groups": "1000700000/10000"}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ns("open", "privileged"), ns("strict", "restricted"), openshift).Build()
	remote := &Remote{Cluster: &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: "src"}}, Client: c}
	for _, tc := range []struct {
		name      string
		runAsRoot *bool
		user      *int64
		namespace string
		want      []string // substrings of the warning; nil for no warning
	}{
		{"root asked and allowed", ptr.To(true), nil, "open", nil},
		{"root asked and refused", ptr.To(true), nil, "strict", []string{"running as non root", "src/strict", "owners"}},
		{"root not asked", nil, nil, "open", []string{"non-root", "65532", "owners", "device files", "symlink", "runAsRoot"}},
		{"root not asked, a chosen user", ptr.To(false), ptr.To[int64](1001), "strict", []string{"1001", "owners"}},
		{"OpenShift's namespace ranges", nil, nil, "openshift", []string{"1000650000", "owners"}},
		{"a chosen user wins over the ranges", nil, ptr.To[int64](1001), "openshift", []string{"1001", "owners"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Scope{DVM: dvm(func(d *migv1.DirectVolumeMigration) { d.Spec.RunAsRoot, d.Spec.RunAsUser = tc.runAsRoot, tc.user })}
			id, err := s.identity(context.Background(), remote, tc.namespace)
			if err != nil {
				t.Fatal(err)
			}
			if tc.namespace == "openshift" && tc.user == nil && (ptr.Deref(id.User, 0) != 1000650000 || ptr.Deref(id.Group, 0) != 1000700000) {
				t.Errorf("user %d group %d, want the namespace's first UID and supplemental group", ptr.Deref(id.User, 0), ptr.Deref(id.Group, 0))
			}
			w := s.nonRootWarning()
			if tc.want == nil {
				if w != nil || !id.Root {
					t.Errorf("root %v, warning %+v; want root and no warning", id.Root, w)
				}
				return
			}
			if id.Root || w == nil || w.Type != migv1.RsyncServerPodsRunningAsNonRoot || w.Category != migv1.CategoryWarn || !w.Durable {
				t.Fatalf("root %v, warning %+v; want a durable Warn %s", id.Root, w, migv1.RsyncServerPodsRunningAsNonRoot)
			}
			for _, part := range tc.want {
				if !strings.Contains(w.Message, part) {
					t.Errorf("warning %q lacks %q", w.Message, part)
				}
			}
		})
	}
}
