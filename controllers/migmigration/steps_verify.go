package migmigration

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

const unhealthyMessage = "'%s' cluster has unhealthy namespaces. See status.namespaces for details."

// verify checks the migrated applications on the destination: unhealthy pods are reported
// in status.namespaces with a warning; otherwise it waits until the workloads are ready. It
// reads the destination namespaces (MTC read the raw "src:dest" entries).
func verify(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	c := s.Destination.Client
	var unhealthy []migv1.UnhealthyNamespace
	var notReady []string
	for _, ns := range s.destinationNamespaces() {
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.InNamespace(ns)); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("list pods in %s on the destination cluster: %w", ns, err)
		}
		var bad []string
		for i := range pods.Items {
			if podUnhealthy(&pods.Items[i]) {
				bad = append(bad, pods.Items[i].Name)
			}
		}
		if len(bad) > 0 {
			unhealthy = append(unhealthy, migv1.UnhealthyNamespace{Name: ns, Workloads: []migv1.Workload{{Name: "pods", Resources: bad}}})
		}
		waiting, err := workloadsNotReady(ctx, c, ns)
		if err != nil {
			return itinerary.Outcome{}, err
		}
		notReady = append(notReady, waiting...)
	}
	if len(unhealthy) > 0 {
		s.Migration.Status.Namespaces = unhealthy
		s.warn(migv1.UnhealthyNamespaces, fmt.Sprintf(unhealthyMessage, s.Destination.Cluster.Name))
		return itinerary.Done(), nil
	}
	if len(notReady) > 0 {
		s.setProgress(append([]string{fmt.Sprintf("Waiting for %d workloads to be ready.", len(notReady))}, listed(notReady)...)...)
		return itinerary.Wait(pollSlow), nil
	}
	s.setProgress("All migrated workloads are ready.")
	return itinerary.Done(), nil
}

// podUnhealthy is MTC's test: failed, unschedulable, or a container that cannot start.
func podUnhealthy(p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonUnschedulable {
			return true
		}
	}
	return slices.ContainsFunc(p.Status.ContainerStatuses, func(cs corev1.ContainerStatus) bool {
		w := cs.State.Waiting
		return w != nil && (w.Reason == "ImagePullBackOff" || w.Reason == "CrashLoopBackOff" || w.Reason == "ErrImagePull")
	})
}

// workloadsNotReady lists the Deployments, StatefulSets and DaemonSets of ns not yet ready.
func workloadsNotReady(ctx context.Context, c client.Client, ns string) ([]string, error) {
	var out []string
	deployments := &appsv1.DeploymentList{}
	if err := c.List(ctx, deployments, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list Deployments in %s: %w", ns, err)
	}
	for _, d := range deployments.Items {
		if want := replicas(d.Spec.Replicas); d.Status.ReadyReplicas < want {
			out = append(out, fmt.Sprintf("Deployment %s/%s: %d/%d ready", ns, d.Name, d.Status.ReadyReplicas, want))
		}
	}
	sets := &appsv1.StatefulSetList{}
	if err := c.List(ctx, sets, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list StatefulSets in %s: %w", ns, err)
	}
	for _, ss := range sets.Items {
		if want := replicas(ss.Spec.Replicas); ss.Status.ReadyReplicas < want {
			out = append(out, fmt.Sprintf("StatefulSet %s/%s: %d/%d ready", ns, ss.Name, ss.Status.ReadyReplicas, want))
		}
	}
	daemons := &appsv1.DaemonSetList{}
	if err := c.List(ctx, daemons, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list DaemonSets in %s: %w", ns, err)
	}
	for _, ds := range daemons.Items {
		if ds.Status.NumberReady < ds.Status.DesiredNumberScheduled {
			out = append(out, fmt.Sprintf("DaemonSet %s/%s: %d/%d ready", ns, ds.Name, ds.Status.NumberReady, ds.Status.DesiredNumberScheduled))
		}
	}
	return out, nil
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}
