package main

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// samplesDir holds the MTC-style samples (`kubectl apply -k config/samples`).
const samplesDir = "config/samples"

// initialKind is the CR OLM's console asks for right after install (the initialization
// resource): the operator's settings, as MTC's operator does.
const initialKind = "MigrationController"

// examples holds the CSV's example CRs.
type examples struct {
	// almExamples is the alm-examples annotation: a JSON list, the initial CR first.
	almExamples string
	// initialization is the operatorframework.io/initialization-resource annotation.
	initialization string
}

// loadExamples builds the examples from the samples' Ferry objects. The Secrets the samples
// also hold are not examples of an owned API. metadata.namespace is dropped: OLM installs
// into a namespace chosen at install time and the console creates examples in the current
// one. The references inside spec keep the samples' namespaces (openshift-migration, the
// suggested install namespace, and openshift-config for Secrets).
func loadExamples(root string) (examples, error) {
	objs, err := kustomizeBuild(root, samplesDir)
	if err != nil {
		return examples{}, err
	}
	var initial []*unstructured.Unstructured
	var rest []*unstructured.Unstructured
	for _, u := range objs {
		if u.GroupVersionKind().GroupVersion() != migv1.GroupVersion {
			continue
		}
		u = u.DeepCopy()
		unstructured.RemoveNestedField(u.Object, "metadata", "namespace")
		if u.GetKind() == initialKind {
			initial = append(initial, u)
		} else {
			rest = append(rest, u)
		}
	}
	if len(initial) != 1 {
		return examples{}, fmt.Errorf("%s: want one %s sample, found %d", samplesDir, initialKind, len(initial))
	}
	all := make([]map[string]any, 0, len(objs))
	for _, u := range append(initial, rest...) {
		all = append(all, u.Object)
	}
	list, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return examples{}, err
	}
	first, err := json.MarshalIndent(initial[0].Object, "", "  ")
	if err != nil {
		return examples{}, err
	}
	return examples{almExamples: string(list), initialization: string(first)}, nil
}
