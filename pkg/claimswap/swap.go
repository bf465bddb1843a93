package claimswap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Result tells what a Swap did and what is still on its way.
type Result struct {
	// Pointed describes each workload that mounts renamed claims: those this call pointed at
	// them and those an earlier call did.
	Pointed []string
	// Pending describes the StatefulSets still being recreated: call Swap again.
	Pending []string
	// Kept describes the workloads that still mount old claims and that Swap does not
	// rewrite (Jobs).
	Kept []string
}

// Done says whether every workload Swap rewrites mounts the renamed claims.
func (r Result) Done() bool { return len(r.Pending) == 0 }

// Swap points the workloads of namespace ns at the renamed claims. It may need several calls
// to recreate StatefulSets; call it again until the result is Done.
func Swap(ctx context.Context, c client.Client, ns string, r Renames) (Result, error) {
	var res Result
	if len(r) == 0 {
		return res, nil
	}
	claims, err := claimNames(ctx, c, ns)
	if err != nil {
		return res, err
	}
	if err := swapStatefulSets(ctx, c, ns, r, claims, &res); err != nil {
		return res, err
	}
	for _, k := range patchedKinds {
		if err := k.swap(ctx, c, ns, r, &res); err != nil {
			return res, err
		}
	}
	jobs := &batchv1.JobList{}
	if err := c.List(ctx, jobs, client.InNamespace(ns)); err != nil {
		return res, fmt.Errorf("list Jobs in %s: %w", ns, err)
	}
	for i := range jobs.Items {
		j := &jobs.Items[i]
		spec := j.Spec.Template.Spec.DeepCopy()
		if changed := rewritePodSpec(spec, r); len(changed) > 0 && metav1.GetControllerOf(j) == nil {
			res.Kept = append(res.Kept, describe("Job", ns, j.Name, changed)+
				" was left as is: a Job's pod template cannot change, and recreating it would run it again")
		}
	}
	return res, nil
}

func claimNames(ctx context.Context, c client.Client, ns string) ([]string, error) {
	pvcs := &corev1.PersistentVolumeClaimList{}
	if err := c.List(ctx, pvcs, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list PVCs in %s: %w", ns, err)
	}
	out := make([]string, 0, len(pvcs.Items))
	for _, p := range pvcs.Items {
		out = append(out, p.Name)
	}
	return out, nil
}

// patchedKind is a workload kind whose pod template can be patched.
type patchedKind struct {
	name    string
	newList func() client.ObjectList
	// podSpec returns the object's pod template spec, nil for objects left alone (owned
	// ReplicaSets: their Deployment rolls out a new one).
	podSpec func(client.Object) *corev1.PodSpec
}

var patchedKinds = []patchedKind{
	{"Deployment", func() client.ObjectList { return &appsv1.DeploymentList{} }, func(o client.Object) *corev1.PodSpec {
		return &o.(*appsv1.Deployment).Spec.Template.Spec
	}},
	{"DaemonSet", func() client.ObjectList { return &appsv1.DaemonSetList{} }, func(o client.Object) *corev1.PodSpec {
		return &o.(*appsv1.DaemonSet).Spec.Template.Spec
	}},
	{"ReplicaSet", func() client.ObjectList { return &appsv1.ReplicaSetList{} }, func(o client.Object) *corev1.PodSpec {
		if metav1.GetControllerOf(o) != nil {
			return nil
		}
		return &o.(*appsv1.ReplicaSet).Spec.Template.Spec
	}},
	{"CronJob", func() client.ObjectList { return &batchv1.CronJobList{} }, func(o client.Object) *corev1.PodSpec {
		return &o.(*batchv1.CronJob).Spec.JobTemplate.Spec.Template.Spec
	}},
}

// swap patches the kind's objects of ns that mount renamed claims.
func (k patchedKind) swap(ctx context.Context, c client.Client, ns string, r Renames, res *Result) error {
	list := k.newList()
	if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("list %ss in %s: %w", k.name, ns, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	for _, item := range items {
		obj, ok := item.(client.Object)
		if !ok {
			return fmt.Errorf("unexpected %T in a %s list", item, k.name)
		}
		before, ok := obj.DeepCopyObject().(client.Object)
		if !ok {
			return fmt.Errorf("unexpected copy of %T", obj)
		}
		spec := k.podSpec(obj)
		if spec == nil {
			continue
		}
		if len(rewritePodSpec(spec, r)) > 0 {
			if err := c.Patch(ctx, obj, client.MergeFrom(before)); err != nil {
				return fmt.Errorf("patch %s %s/%s: %w", k.name, ns, obj.GetName(), err)
			}
		}
		if mounted := renamedClaims(spec, r); len(mounted) > 0 {
			res.Pointed = append(res.Pointed, describe(k.name, ns, obj.GetName(), mounted))
		}
	}
	return nil
}

// describe is a progress line: "Deployment app/web: data-mig-abcd".
func describe(kind, ns, name string, changed []string) string {
	slices.Sort(changed)
	return fmt.Sprintf("%s %s/%s: %s", kind, ns, name, strings.Join(changed, ", "))
}
