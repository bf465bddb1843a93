package quiesce

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func claimVolume(claim string) corev1.Volume {
	return corev1.Volume{Name: claim, VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}
}

func TestRemains(t *testing.T) {
	owner := func(apiVersion, kind string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: "o", UID: "u"}}
	}
	pod := func(phase corev1.PodPhase, owners []metav1.OwnerReference, claims ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", OwnerReferences: owners},
			Status: corev1.PodStatus{Phase: phase}}
		for _, c := range claims {
			p.Spec.Volumes = append(p.Spec.Volumes, claimVolume(c))
		}
		return p
	}
	rs := owner("apps/v1", "ReplicaSet")
	only := map[types.NamespacedName]bool{{Namespace: "ns", Name: "a"}: true, {Namespace: "ns", Name: "off"}: false}
	tests := []struct {
		name string
		pod  *corev1.Pod
		only map[types.NamespacedName]bool
		want bool
	}{
		{"running ReplicaSet pod", pod(corev1.PodRunning, rs), nil, true},
		{"pending ReplicaSet pod", pod(corev1.PodPending, rs), nil, true},
		{"succeeded", pod(corev1.PodSucceeded, rs), nil, false},
		{"failed", pod(corev1.PodFailed, rs), nil, false},
		{"unknown", pod(corev1.PodUnknown, rs), nil, false},
		{"StatefulSet", pod(corev1.PodRunning, owner("apps/v1", "StatefulSet")), nil, true},
		{"DaemonSet", pod(corev1.PodRunning, owner("apps/v1", "DaemonSet")), nil, true},
		{"Job", pod(corev1.PodRunning, owner("batch/v1", "Job")), nil, true},
		{"ReplicationController", pod(corev1.PodRunning, owner("v1", "ReplicationController")), nil, true},
		{"bare pod", pod(corev1.PodRunning, nil), nil, false},
		{"owned by another kind", pod(corev1.PodRunning, owner("kubevirt.io/v1", "VirtualMachineInstance")), nil, false},
		{"a Job kind of another group", pod(corev1.PodRunning, owner("example.com/v1", "Job")), nil, false},
		{"only: mounts a selected PVC", pod(corev1.PodRunning, rs, "a"), only, true},
		{"only: mounts a selected and an unselected PVC", pod(corev1.PodRunning, rs, "a", "b"), only, true},
		{"only: mounts only an unselected PVC", pod(corev1.PodRunning, rs, "b"), only, false},
		{"only: mounts a PVC set to false", pod(corev1.PodRunning, rs, "off"), only, false},
		{"only: mounts no PVC (its workload is left running)", pod(corev1.PodRunning, rs), only, false},
		{"only, empty: nothing counts", pod(corev1.PodRunning, rs, "a"), map[types.NamespacedName]bool{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newScope(Options{OnlyPVCs: tt.only}).remains(tt.pod); got != tt.want {
				t.Errorf("remains = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestScope(t *testing.T) {
	s := newScope(Options{OnlyPVCs: map[types.NamespacedName]bool{
		{Namespace: "ns", Name: "data-db-0"}: true,
		{Namespace: "ns", Name: "shared"}:    true,
		{Namespace: "off", Name: "x"}:        false,
	}})
	for ns, want := range map[string]bool{"ns": true, "other": false, "off": false} {
		if got := s.namespace(ns); got != want {
			t.Errorf("namespace(%s) = %v, want %v", ns, got, want)
		}
	}
	if !newScope(Options{}).namespace("any") || !newScope(Options{}).everything() {
		t.Error("nil OnlyPVCs selects everything")
	}

	sts := func(name string, templates ...string) *appsv1.StatefulSet {
		ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
		for _, tpl := range templates {
			ss.Spec.VolumeClaimTemplates = append(ss.Spec.VolumeClaimTemplates,
				corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: tpl}})
		}
		return ss
	}
	for _, tt := range []struct {
		ss   *appsv1.StatefulSet
		want bool
	}{
		{sts("db", "data"), true},
		{sts("db", "logs", "data"), true},
		{sts("db", "logs"), false},
		{sts("d", "data-db"), false}, // "data-db-d-<n>" is not "data-db-0"
		{sts("db"), false},
	} {
		if got := s.claimTemplatesMatch(tt.ss); got != tt.want {
			t.Errorf("claimTemplatesMatch(%s %v) = %v, want %v", tt.ss.Name, tt.ss.Spec.VolumeClaimTemplates, got, tt.want)
		}
	}
	// A name that merely starts like a template's PVC is not one.
	s2 := newScope(Options{OnlyPVCs: map[types.NamespacedName]bool{{Namespace: "ns", Name: "data-db-backup"}: true}})
	if s2.claimTemplatesMatch(sts("db", "data")) {
		t.Error("data-db-backup is not an ordinal of data-db")
	}

	spec := &corev1.PodSpec{Volumes: []corev1.Volume{{Name: "tmp"}, claimVolume("shared")}}
	if !s.podSpecMounts("ns", spec) || s.podSpecMounts("other", spec) {
		t.Error("podSpecMounts must match the claim in its own namespace only")
	}
}
