package demo

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// toTyped converts a decoded YAML document into the typed object its kind names.
func toTyped(scheme *runtime.Scheme, raw map[string]any) (client.Object, error) {
	u := &unstructured.Unstructured{Object: raw}
	typed, err := scheme.New(u.GroupVersionKind())
	if err != nil {
		return nil, fmt.Errorf("unknown kind %s: %w", u.GroupVersionKind(), err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, typed); err != nil {
		return nil, fmt.Errorf("convert %s: %w", u.GroupVersionKind().Kind, err)
	}
	obj, ok := typed.(client.Object)
	if !ok {
		return nil, fmt.Errorf("%s is not an object", u.GroupVersionKind().Kind)
	}
	return obj, nil
}
