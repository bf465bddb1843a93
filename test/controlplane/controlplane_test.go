package controlplane

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestControllerManagerBindsClaims checks what WithControllerManager promises: a PVC binds to
// a matching PV, and a namespace gets its default ServiceAccount.
func TestControllerManagerBindsClaims(t *testing.T) {
	cp, err := Start("kcm", WithControllerManager())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cp.Stop(); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-1"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: t.TempDir()}},
			StorageClassName:       "manual",
		},
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: ptr.To("manual"),
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	for _, obj := range []client.Object{ns, pv, pvc} {
		if err := cp.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(ctx, t, "the PVC to bind", func() bool {
		got := &corev1.PersistentVolumeClaim{}
		return cp.Client.Get(ctx, client.ObjectKeyFromObject(pvc), got) == nil && got.Status.Phase == corev1.ClaimBound && got.Spec.VolumeName == "pv-1"
	})
	waitFor(ctx, t, "the default ServiceAccount", func() bool {
		return cp.Client.Get(ctx, client.ObjectKey{Namespace: "app", Name: "default"}, &corev1.ServiceAccount{}) == nil
	})
}

func waitFor(ctx context.Context, t *testing.T, what string, done func() bool) {
	t.Helper()
	for !done() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestSchedulerBindsPodsToReadyNodes checks WithScheduler: a pod is bound to the only Ready
// node, as the local clusters' process node will need.
func TestSchedulerBindsPodsToReadyNodes(t *testing.T) {
	cp, err := Start("sched", WithScheduler())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cp.Stop(); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", Labels: map[string]string{"kubernetes.io/hostname": "node-1"}}}
	if err := cp.Client.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	node.Status = corev1.NodeStatus{
		Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}},
		Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("110")},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("110")},
	}
	if err := cp.Client.Status().Update(ctx, node); err != nil {
		t.Fatal(err)
	}
	// The API server taints new nodes not-ready; without a node lifecycle controller, whoever
	// plays the kubelet removes the taint once the node reports Ready.
	node.Spec.Taints = nil
	if err := cp.Client.Update(ctx, node); err != nil {
		t.Fatal(err)
	}
	if err := cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web"}}}}
	if err := cp.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the pod to be scheduled on node-1", func() bool {
		got := &corev1.Pod{}
		return cp.Client.Get(ctx, client.ObjectKeyFromObject(pod), got) == nil && got.Spec.NodeName == "node-1"
	})
}
