package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// Loading thousands of objects needs more than client-go's default 5 requests per second.
const (
	loadQPS     = 1000
	loadBurst   = 2000
	loadWorkers = 16
)

// populate creates n namespaces, each with claims bound PVCs (pre-bound to local PVs) and a
// pod mounting them. It writes the claims' and volumes' Bound status itself, as
// kube-controller-manager's volume binder would: that binder syncs about three claims a second
// on this machine (2,527 of 10,000 in 15 minutes), and what the benchmark measures is the
// operator, not it.
func populate(ctx context.Context, cp *controlplane.ControlPlane, n, claims int) ([]string, error) {
	cfg := rest.CopyConfig(cp.Config)
	cfg.QPS, cfg.Burst = loadQPS, loadBurst
	c, err := client.New(cfg, client.Options{Scheme: cp.Client.Scheme()})
	if err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	if err := c.Create(ctx, standardClass()); err != nil {
		return nil, fmt.Errorf("create StorageClass: %w", err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("app-%04d", i)
	}
	if err := fixtures.Parallel(names, loadWorkers, func(ns string) error { return createNamespace(ctx, c, ns, claims) }); err != nil {
		return nil, err
	}
	return names, fixtures.WaitBound(ctx, c, n*claims, time.Minute)
}

func createNamespace(ctx context.Context, c client.Client, ns string, claims int) error {
	objs := []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app"}}}}
	for i := range claims {
		claim, pvName := fmt.Sprintf("data-%d", i), fmt.Sprintf("pv-%s-%d", ns, i)
		pv, pvc := fixtures.BoundVolume(ns, claim, pvName, "1Gi")
		objs = append(objs, pv, pvc)
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: claim,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	}
	for _, obj := range append(objs, pod) {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
		}
		if err := fixtures.MarkBound(ctx, c, obj); err != nil {
			return err
		}
	}
	return nil
}
