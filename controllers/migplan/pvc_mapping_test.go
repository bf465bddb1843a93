package migplan

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// runningPod returns a running pod mounting the claims, owned by owner when given.
func runningPod(ns, name string, owner *metav1.OwnerReference, claims ...string) corev1.Pod {
	pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	if owner != nil {
		pod.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	pod.Spec = podSpec(claims...)
	return pod
}

func podSpec(claims ...string) corev1.PodSpec {
	var spec corev1.PodSpec
	for _, c := range claims {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: c, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
	}
	return spec
}

// ownedBy returns a controller reference.
func ownedBy(apiVersion, kind, name string) *metav1.OwnerReference {
	return &metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, Controller: pointerTo(true)}
}

func newTemplate(kind, ns, name string, claims ...string) PodTemplateOwner {
	return PodTemplateOwner{Kind: kind, Namespace: ns, Name: name, Spec: podSpec(claims...)}
}

func withLabel(pod corev1.Pod, key, value string) corev1.Pod {
	pod.Labels = map[string]string{key: value}
	return pod
}

func withPodPhase(pod corev1.Pod, phase corev1.PodPhase) corev1.Pod {
	pod.Status.Phase = phase
	return pod
}

func TestDiscoverClaimUsage(t *testing.T) {
	web := newTemplate("StatefulSet", "ns1", "web")
	web.StatefulSetClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
	cases := []struct {
		name      string
		claim     string
		pods      []corev1.Pod
		templates []PodTemplateOwner
		want      claimUsage
	}{
		{"not mounted", "c", nil, nil, claimUsage{}},
		{"bare pod", "c", []corev1.Pod{runningPod("ns1", "p", nil, "c")}, nil, claimUsage{true, migv1.OwnerTypeUnknown}},
		{"pod of another namespace", "c", []corev1.Pod{runningPod("ns2", "p", nil, "c")}, nil, claimUsage{}},
		{"succeeded pod", "c", []corev1.Pod{withPodPhase(runningPod("ns1", "p", nil, "c"), corev1.PodSucceeded)}, nil, claimUsage{}},
		{"failed pod", "c", []corev1.Pod{withPodPhase(runningPod("ns1", "p", nil, "c"), corev1.PodFailed)}, nil, claimUsage{}},
		{"pending pod", "c", []corev1.Pod{withPodPhase(runningPod("ns1", "p", ownedBy("apps/v1", "DaemonSet", "d"), "c"), corev1.PodPending)},
			nil, claimUsage{true, migv1.OwnerTypeDaemonSet}},
		{"StatefulSet pod", "c", []corev1.Pod{runningPod("ns1", "p", ownedBy("apps/v1", "StatefulSet", "s"), "c")}, nil,
			claimUsage{true, migv1.OwnerTypeStatefulSet}},
		{"ReplicaSet of a Deployment by pod-template-hash", "c", []corev1.Pod{withLabel(runningPod("ns1", "p",
			ownedBy("apps/v1", "ReplicaSet", "app-5d9c7b"), "c"), podTemplateHashLabel, "5d9c7b")}, nil,
			claimUsage{true, migv1.OwnerTypeDeployment}},
		{"ReplicaSet of a Deployment by template", "c", []corev1.Pod{runningPod("ns1", "p", ownedBy("apps/v1", "ReplicaSet", "app-5d9c7b"), "c")},
			[]PodTemplateOwner{newTemplate("Deployment", "ns1", "app")}, claimUsage{true, migv1.OwnerTypeDeployment}},
		{"standalone ReplicaSet", "c", []corev1.Pod{runningPod("ns1", "p", ownedBy("apps/v1", "ReplicaSet", "app-5d9c7b"), "c")},
			[]PodTemplateOwner{newTemplate("Deployment", "ns2", "app")}, claimUsage{true, migv1.OwnerTypeReplicaSet}},
		{"Job", "c", []corev1.Pod{runningPod("ns1", "p", ownedBy("batch/v1", "Job", "backup-29000000"), "c")}, nil,
			claimUsage{true, migv1.OwnerTypeJob}},
		{"Job of a CronJob", "c", []corev1.Pod{runningPod("ns1", "p", ownedBy("batch/v1", "Job", "backup-29000000"), "c")},
			[]PodTemplateOwner{newTemplate("CronJob", "ns1", "backup", "c")}, claimUsage{true, migv1.OwnerTypeCronJob}},
		{"KubeVirt launcher", "c", []corev1.Pod{runningPod("ns1", "virt-launcher-vm", ownedBy("kubevirt.io/v1", "VirtualMachineInstance", "vm"), "c")},
			nil, claimUsage{true, migv1.OwnerTypeVirtualMachine}},
		{"KubeVirt hotplug pod", "c", []corev1.Pod{runningPod("ns1", "hp-volume-x", ownedBy("v1", "Pod", "virt-launcher-vm"), "c")},
			nil, claimUsage{true, migv1.OwnerTypeVirtualMachine}},
		{"other pod-owned pod", "c", []corev1.Pod{runningPod("ns1", "x", ownedBy("v1", "Pod", "y"), "c")}, nil,
			claimUsage{true, migv1.OwnerTypeUnknown}},
		{"DeploymentConfig pod", "c", []corev1.Pod{func() corev1.Pod {
			p := runningPod("ns1", "p", ownedBy("v1", "ReplicationController", "dc-1"), "c")
			p.Annotations = map[string]string{deploymentConfigPodAnnot: "dc"}
			return p
		}()}, nil, claimUsage{true, migv1.OwnerTypeDeploymentConfig}},
		{"kind of another group", "c", []corev1.Pod{runningPod("ns1", "p", ownedBy("example.com/v1", "StatefulSet", "s"), "c")}, nil,
			claimUsage{true, migv1.OwnerTypeUnknown}},
		{"several owners, none controller", "c", []corev1.Pod{func() corev1.Pod {
			p := runningPod("ns1", "p", nil, "c")
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet"}, {APIVersion: "apps/v1", Kind: "DaemonSet"}}
			return p
		}()}, nil, claimUsage{true, migv1.OwnerTypeUnknown}},
		{"single owner, not controller", "c", []corev1.Pod{func() corev1.Pod {
			p := runningPod("ns1", "p", nil, "c")
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet"}}
			return p
		}()}, nil, claimUsage{true, migv1.OwnerTypeStatefulSet}},
		{"conflicting owners", "c", []corev1.Pod{runningPod("ns1", "p", ownedBy("apps/v1", "StatefulSet", "s"), "c"),
			runningPod("ns1", "q", ownedBy("apps/v1", "DaemonSet", "d"), "c")}, nil, claimUsage{true, migv1.OwnerTypeUnknown}},
		{"two workloads of one kind", "c", []corev1.Pod{runningPod("ns1", "p", ownedBy("apps/v1", "DaemonSet", "a"), "c"),
			runningPod("ns1", "q", ownedBy("apps/v1", "DaemonSet", "b"), "c")}, nil, claimUsage{true, migv1.OwnerTypeDaemonSet}},
		{"scaled-down Deployment", "c", nil, []PodTemplateOwner{newTemplate("Deployment", "ns1", "app", "c")},
			claimUsage{true, migv1.OwnerTypeDeployment}},
		{"Deployment and its ReplicaSets", "c", []corev1.Pod{withLabel(runningPod("ns1", "p",
			ownedBy("apps/v1", "ReplicaSet", "app-5d9c7b"), "c"), podTemplateHashLabel, "5d9c7b")},
			[]PodTemplateOwner{newTemplate("Deployment", "ns1", "app", "c"), newTemplate("ReplicaSet", "ns1", "app-5d9c7b", "c"),
				newTemplate("ReplicaSet", "ns1", "app-77f8d", "c")}, claimUsage{true, migv1.OwnerTypeDeployment}},
		{"CronJob and its Jobs", "c", nil, []PodTemplateOwner{newTemplate("CronJob", "ns1", "backup", "c"),
			newTemplate("Job", "ns1", "backup-29000000", "c")}, claimUsage{true, migv1.OwnerTypeCronJob}},
		{"standalone Job template", "c", nil, []PodTemplateOwner{newTemplate("Job", "ns1", "once", "c")},
			claimUsage{true, migv1.OwnerTypeJob}},
		{"unknown template kind", "c", nil, []PodTemplateOwner{newTemplate("Widget", "ns1", "w", "c")},
			claimUsage{true, migv1.OwnerTypeUnknown}},
		{"StatefulSet claim template", "data-web-0", nil, []PodTemplateOwner{web}, claimUsage{true, migv1.OwnerTypeStatefulSet}},
		{"StatefulSet claim template, high ordinal", "data-web-12", nil, []PodTemplateOwner{web}, claimUsage{true, migv1.OwnerTypeStatefulSet}},
		{"not an ordinal", "data-web-x", nil, []PodTemplateOwner{web}, claimUsage{}},
		{"no ordinal", "data-web-", nil, []PodTemplateOwner{web}, claimUsage{}},
		{"other set", "data-webapp-0", nil, []PodTemplateOwner{web}, claimUsage{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := newInput(discoveryPlan([]string{"ns1"}), []corev1.PersistentVolume{newPV("pv", "ns1", tc.claim)},
				[]corev1.PersistentVolumeClaim{newPVC("ns1", tc.claim, "pv")})
			in.Pods, in.Templates = tc.pods, tc.templates
			got := discoverOne(t, in).PVC
			if got.HasReference != tc.want.referenced || got.OwnerType != tc.want.owner {
				t.Fatalf("hasReference %v, ownerType %q; want %v, %q", got.HasReference, got.OwnerType, tc.want.referenced, tc.want.owner)
			}
		})
	}
}
