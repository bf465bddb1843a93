package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every Ferry kind, shared with MTC.
	GroupVersion = schema.GroupVersion{Group: "migration.openshift.io", Version: "v1alpha1"}

	// schemeBuilder collects the kinds registered by each *_types.go file's init.
	schemeBuilder = runtime.NewSchemeBuilder()

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = schemeBuilder.AddToScheme
)

// register adds kinds (each with its List type) to the scheme under GroupVersion. It uses
// apimachinery directly, rather than controller-runtime's scheme.Builder, so that api/ depends
// on apimachinery and core types only.
func register(objects ...runtime.Object) {
	schemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, objects...)
		metav1.AddToGroupVersion(s, GroupVersion)
		return nil
	})
}
