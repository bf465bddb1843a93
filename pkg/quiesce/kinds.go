package quiesce

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A step is a pure decision on one object: it changes obj in memory towards the wanted state
// and describes the change; "" means obj already is in that state and nothing is written.
type step func(obj client.Object) (string, error)

// typed adapts a decision on a concrete type to a step.
func typed[T client.Object](f func(T) (string, error)) step {
	return func(obj client.Object) (string, error) {
		t, ok := obj.(T)
		if !ok {
			return "", fmt.Errorf("unexpected type %T", obj)
		}
		return f(t)
	}
}

// kind is one workload kind that quiesce acts on.
type kind struct {
	name      string
	newList   func() client.ObjectList
	newObject func() client.Object
	// skip, when set, leaves objects alone whatever the scope (owned ReplicaSets).
	skip func(client.Object) bool
	// mounts says whether the object's pod template mounts a PVC of the scope.
	mounts    func(scope, client.Object) bool
	quiesce   []step
	unquiesce []step
}

func (k *kind) list(ctx context.Context, c client.Client, ns string) ([]client.Object, error) {
	l := k.newList()
	if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(l)
	if err != nil {
		return nil, err
	}
	out := make([]client.Object, 0, len(items))
	for _, it := range items {
		obj, ok := it.(client.Object)
		if !ok {
			return nil, fmt.Errorf("unexpected list item %T", it)
		}
		out = append(out, obj)
	}
	return out, nil
}

func (k *kind) inScope(s scope, obj client.Object) bool {
	return s.everything() || k.mounts(s, obj)
}

var deploymentConfigGVK = schema.GroupVersionKind{Group: "apps.openshift.io", Version: "v1", Kind: "DeploymentConfig"}

// kindsOf lists the kinds in quiesce order: CronJobs first so that no new Job starts while
// the rest stops, then the replicated workloads, DaemonSets and Jobs. DeploymentConfigs are
// included only when the cluster serves them; when discovery fails the other kinds are still
// returned with the error.
func kindsOf(c client.Client) ([]*kind, error) {
	out := []*kind{cronJobs}
	served, err := deploymentConfigsServed(c)
	if served {
		out = append(out, deploymentConfigs)
	}
	return append(out, deployments, statefulSets, replicaSets, replicationControllers, daemonSets, jobs), err
}

// unquiesceOrder starts the workloads first and resumes CronJobs last.
func unquiesceOrder(kinds []*kind) []*kind {
	out := slices.Clone(kinds)
	if len(out) > 0 && out[0] == cronJobs {
		out = append(out[1:], cronJobs)
	}
	return out
}

func unowned(obj client.Object) bool { return len(obj.GetOwnerReferences()) == 0 }

var (
	cronJobs = &kind{
		name:      "CronJob",
		newList:   func() client.ObjectList { return &batchv1.CronJobList{} },
		newObject: func() client.Object { return &batchv1.CronJob{} },
		mounts: func(s scope, obj client.Object) bool {
			cj, ok := obj.(*batchv1.CronJob)
			return ok && s.podSpecMounts(cj.Namespace, &cj.Spec.JobTemplate.Spec.Template.Spec)
		},
		quiesce:   []step{typed(quiesceCronJob)},
		unquiesce: []step{typed(unquiesceCronJob)},
	}
	deploymentConfigs = &kind{
		name: "DeploymentConfig",
		newList: func() client.ObjectList {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(deploymentConfigGVK.GroupVersion().WithKind("DeploymentConfigList"))
			return l
		},
		newObject: func() client.Object {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(deploymentConfigGVK)
			return u
		},
		mounts: func(s scope, obj client.Object) bool {
			u, ok := obj.(*unstructured.Unstructured)
			return ok && s.anyClaim(u.GetNamespace(), unstructuredClaims(u))
		},
		quiesce: []step{typed(quiesceDeploymentConfig)},
		// Replicas first, paused in a second write, as MTC does: a paused DeploymentConfig
		// does not act on its replica count.
		unquiesce: []step{typed(unquiesceDeploymentConfigReplicas), typed(unquiesceDeploymentConfigPaused)},
	}
	deployments = &kind{
		name:      "Deployment",
		newList:   func() client.ObjectList { return &appsv1.DeploymentList{} },
		newObject: func() client.Object { return &appsv1.Deployment{} },
		mounts: func(s scope, obj client.Object) bool {
			d, ok := obj.(*appsv1.Deployment)
			return ok && s.podSpecMounts(d.Namespace, &d.Spec.Template.Spec)
		},
		quiesce:   []step{typed(quiesceDeployment)},
		unquiesce: []step{typed(unquiesceDeployment)},
	}
	statefulSets = &kind{
		name:      "StatefulSet",
		newList:   func() client.ObjectList { return &appsv1.StatefulSetList{} },
		newObject: func() client.Object { return &appsv1.StatefulSet{} },
		mounts: func(s scope, obj client.Object) bool {
			ss, ok := obj.(*appsv1.StatefulSet)
			return ok && (s.podSpecMounts(ss.Namespace, &ss.Spec.Template.Spec) || s.claimTemplatesMatch(ss))
		},
		quiesce: []step{typed(func(ss *appsv1.StatefulSet) (string, error) {
			return scaleDown(ss, &ss.Spec.Replicas), nil
		})},
		unquiesce: []step{typed(func(ss *appsv1.StatefulSet) (string, error) {
			return restore(ss, &ss.Spec.Replicas)
		})},
	}
	replicaSets = &kind{
		name:      "ReplicaSet",
		newList:   func() client.ObjectList { return &appsv1.ReplicaSetList{} },
		newObject: func() client.Object { return &appsv1.ReplicaSet{} },
		// A ReplicaSet owned by a Deployment (or anything else) follows its owner.
		skip: func(obj client.Object) bool { return !unowned(obj) },
		mounts: func(s scope, obj client.Object) bool {
			rs, ok := obj.(*appsv1.ReplicaSet)
			return ok && s.podSpecMounts(rs.Namespace, &rs.Spec.Template.Spec)
		},
		quiesce: []step{typed(func(rs *appsv1.ReplicaSet) (string, error) {
			return scaleDown(rs, &rs.Spec.Replicas), nil
		})},
		unquiesce: []step{typed(func(rs *appsv1.ReplicaSet) (string, error) {
			return restore(rs, &rs.Spec.Replicas)
		})},
	}
	replicationControllers = &kind{
		name:      "ReplicationController",
		newList:   func() client.ObjectList { return &corev1.ReplicationControllerList{} },
		newObject: func() client.Object { return &corev1.ReplicationController{} },
		// A ReplicationController owned by a DeploymentConfig follows its owner.
		skip: func(obj client.Object) bool { return !unowned(obj) },
		mounts: func(s scope, obj client.Object) bool {
			rc, ok := obj.(*corev1.ReplicationController)
			return ok && rc.Spec.Template != nil && s.podSpecMounts(rc.Namespace, &rc.Spec.Template.Spec)
		},
		quiesce: []step{typed(func(rc *corev1.ReplicationController) (string, error) {
			return scaleDown(rc, &rc.Spec.Replicas), nil
		})},
		unquiesce: []step{typed(func(rc *corev1.ReplicationController) (string, error) {
			return restore(rc, &rc.Spec.Replicas)
		})},
	}
	daemonSets = &kind{
		name:      "DaemonSet",
		newList:   func() client.ObjectList { return &appsv1.DaemonSetList{} },
		newObject: func() client.Object { return &appsv1.DaemonSet{} },
		mounts: func(s scope, obj client.Object) bool {
			ds, ok := obj.(*appsv1.DaemonSet)
			return ok && s.podSpecMounts(ds.Namespace, &ds.Spec.Template.Spec)
		},
		quiesce:   []step{typed(quiesceDaemonSet)},
		unquiesce: []step{typed(unquiesceDaemonSet)},
	}
	jobs = &kind{
		name:      "Job",
		newList:   func() client.ObjectList { return &batchv1.JobList{} },
		newObject: func() client.Object { return &batchv1.Job{} },
		mounts: func(s scope, obj client.Object) bool {
			j, ok := obj.(*batchv1.Job)
			return ok && s.podSpecMounts(j.Namespace, &j.Spec.Template.Spec)
		},
		quiesce: []step{typed(func(j *batchv1.Job) (string, error) {
			return prefix("parallelism ", scaleDown(j, &j.Spec.Parallelism)), nil
		})},
		unquiesce: []step{typed(func(j *batchv1.Job) (string, error) {
			d, err := restore(j, &j.Spec.Parallelism)
			return prefix("parallelism ", d), err
		})},
	}
)

func prefix(p, desc string) string {
	if desc == "" {
		return ""
	}
	return p + desc
}
