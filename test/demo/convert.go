package demo

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// kindOf names an object's kind for the user.
func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *migv1.MigCluster:
		return "MigCluster"
	case *migv1.MigStorage:
		return "MigStorage"
	case *migv1.MigPlan:
		return "MigPlan"
	}
	return fmt.Sprintf("%T", obj)
}

// summarize renders conditions as Type=Status (message), Ready first: it is what the user
// waits for, and long warnings would push it out of sight.
func summarize(list migv1.Conditions) string {
	if len(list) == 0 {
		return "waiting for the operator"
	}
	parts := make([]string, 0, len(list))
	for _, c := range list {
		part := fmt.Sprintf("%s=%s (%s)", c.Type, c.Status, c.Message)
		if c.Type == migv1.Ready {
			parts = append([]string{part}, parts...)
			continue
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

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
