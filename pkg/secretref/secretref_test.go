package secretref

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestKey(t *testing.T) {
	cases := []struct {
		name    string
		ref     *corev1.ObjectReference
		wantKey string
		wantSet bool
		allowed bool
	}{
		{"no reference", nil, "", false, true},
		{"no name", &corev1.ObjectReference{Namespace: "kube-system"}, "", false, true},
		{"own namespace by default", &corev1.ObjectReference{Name: "s"}, "openshift-migration/s", true, true},
		{"own namespace", &corev1.ObjectReference{Namespace: "openshift-migration", Name: "s"}, "openshift-migration/s", true, true},
		{"openshift-config", &corev1.ObjectReference{Namespace: "openshift-config", Name: "s"}, "openshift-config/s", true, true},
		{"another namespace", &corev1.ObjectReference{Namespace: "kube-system", Name: "s"}, "kube-system/s", true, false},
		{"a tenant", &corev1.ObjectReference{Namespace: "shop", Name: "s"}, "shop/s", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, set, err := Key(tc.ref, "openshift-migration")
			if set != tc.wantSet || set && key.String() != tc.wantKey {
				t.Errorf("Key = %v, %v; want %q, %v", key, set, tc.wantKey, tc.wantSet)
			}
			var nsErr *NamespaceError
			if got := errors.As(err, &nsErr); got == tc.allowed {
				t.Errorf("error %v; want allowed=%v", err, tc.allowed)
			}
		})
	}
	err := Check(types.NamespacedName{Namespace: "kube-system", Name: "s"}, "openshift-migration")
	want := `the Secret kube-system/s is in namespace "kube-system"; a Secret reference may only name namespace "openshift-migration" or "openshift-config", so it was not read`
	if err == nil || err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
}
