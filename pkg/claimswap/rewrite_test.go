package claimswap

import (
	"errors"
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTemplateRenames(t *testing.T) {
	conversion := Renames{"data-web-0": "data-mig-abcd-web-0", "data-web-1": "data-mig-abcd-web-1", "logs": "logs-mig-abcd"}
	tests := []struct {
		name      string
		templates []string
		claims    []string
		renames   Renames
		want      map[string]string
		wantErr   string
	}{
		{name: "every claim of the template is renamed", templates: []string{"data"},
			claims: []string{"data-web-0", "data-web-1", "logs"}, renames: conversion,
			want: map[string]string{"data": "data-mig-abcd"}},
		{name: "a rollback renames the template back", templates: []string{"data-mig-abcd"},
			claims: []string{"data-mig-abcd-web-0", "data-mig-abcd-web-1"}, renames: conversion.Reversed(),
			want: map[string]string{"data-mig-abcd": "data"}},
		{name: "a template without renamed claims keeps its name", templates: []string{"cache"},
			claims: []string{"cache-web-0", "data-web-0"}, renames: conversion, want: map[string]string{}},
		{name: "another set's claims do not count", templates: []string{"data"},
			claims: []string{"data-web-0", "data-web-1", "data-webx-0", "data-web-old"}, renames: conversion,
			want: map[string]string{"data": "data-mig-abcd"}},
		{name: "a claim left out would start a replica on an empty claim", templates: []string{"data"},
			claims: []string{"data-web-0", "data-web-1", "data-web-2"}, renames: conversion,
			wantErr: "claims data-web-2 of template data are not converted"},
		{name: "a rename that names no template of the set", templates: []string{"data"},
			claims: []string{"data-web-0"}, renames: Renames{"data-web-0": "other-0"},
			wantErr: "does not name a claim template"},
		{name: "two target templates", templates: []string{"data"},
			claims: []string{"data-web-0", "data-web-1"}, renames: Renames{"data-web-0": "a-web-0", "data-web-1": "b-web-1"},
			wantErr: "renamed to two templates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := templateRenames("web", tt.templates, tt.claims, tt.renames)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrUnswappable) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want an ErrUnswappable containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRewritePodSpec(t *testing.T) {
	claim := func(vol, name string) corev1.Volume {
		return corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}}
	}
	spec := corev1.PodSpec{
		Volumes: []corev1.Volume{claim("a", "data"), claim("b", "other"), {Name: "c", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		Containers: []corev1.Container{{Name: "app",
			VolumeMounts:  []corev1.VolumeMount{{Name: "data", MountPath: "/data"}, {Name: "c", MountPath: "/c"}},
			VolumeDevices: []corev1.VolumeDevice{{Name: "data", DevicePath: "/dev/x"}}}},
		InitContainers: []corev1.Container{{Name: "init", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
	}
	changed := rewritePodSpec(&spec, Renames{"data": "data-mig-abcd", "absent": "x"})
	if len(changed) != 1 || changed[0] != "data → data-mig-abcd" {
		t.Errorf("changes %v", changed)
	}
	if spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data-mig-abcd" || spec.Volumes[1].PersistentVolumeClaim.ClaimName != "other" {
		t.Errorf("volumes %+v", spec.Volumes)
	}
	if again := rewritePodSpec(&spec, Renames{"data": "data-mig-abcd"}); len(again) != 0 {
		t.Errorf("a second rewrite changed %v", again)
	}
	renameVolumeUses(&spec, "data", "data-mig-abcd")
	if spec.Containers[0].VolumeMounts[0].Name != "data-mig-abcd" || spec.Containers[0].VolumeDevices[0].Name != "data-mig-abcd" ||
		spec.InitContainers[0].VolumeMounts[0].Name != "data-mig-abcd" || spec.Containers[0].VolumeMounts[1].Name != "c" {
		t.Errorf("mounts %+v %+v", spec.Containers, spec.InitContainers)
	}
}

func TestTemporarySetRoundTrip(t *testing.T) {
	replicas := int32(3)
	desired := newSet("web", &replicas, "data-mig-abcd")
	desired.Annotations = map[string]string{"keep": "me"}
	temp := temporarySet(desired)
	if temp.Name != "web-new" || *temp.Spec.Replicas != 0 || temp.Annotations[TemporaryAnnotation] != "web" {
		t.Fatalf("temporary set %+v", temp)
	}
	back := restoredSet(temp)
	if back.Name != "web" || *back.Spec.Replicas != 3 || back.Annotations["keep"] != "me" || len(back.Annotations) != 1 ||
		back.Spec.VolumeClaimTemplates[0].Name != "data-mig-abcd" {
		t.Errorf("restored set %+v", back)
	}
	if desired.Annotations[TemporaryAnnotation] != "" {
		t.Error("the temporary set's annotations leaked into the desired set")
	}
}

func newSet(name string, replicas *int32, template string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, Labels: map[string]string{"app": name}},
		Spec: appsv1.StatefulSetSpec{
			Replicas:             replicas,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: template}}},
		},
	}
}
