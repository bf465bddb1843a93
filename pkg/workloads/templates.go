package workloads

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Template is the pod template of a workload.
type Template struct {
	Kind, Namespace, Name string
	Spec                  corev1.PodSpec
	// StatefulSetClaimTemplates are a StatefulSet's volumeClaimTemplates; their claims are
	// named "<template>-<set>-<ordinal>".
	StatefulSetClaimTemplates []corev1.PersistentVolumeClaim
}

// Lister fills list with the objects of the namespaces the caller wants.
type Lister func(ctx context.Context, list client.ObjectList) error

// Templates returns the pod templates of the workloads list finds.
func Templates(ctx context.Context, list Lister) ([]Template, error) {
	deployments, statefulSets, daemonSets := &appsv1.DeploymentList{}, &appsv1.StatefulSetList{}, &appsv1.DaemonSetList{}
	replicaSets, jobs, cronJobs := &appsv1.ReplicaSetList{}, &batchv1.JobList{}, &batchv1.CronJobList{}
	for _, l := range []client.ObjectList{deployments, statefulSets, daemonSets, replicaSets, jobs, cronJobs} {
		if err := list(ctx, l); err != nil {
			return nil, err
		}
	}
	var out []Template
	add := func(kind, ns, name string, spec corev1.PodSpec, claims []corev1.PersistentVolumeClaim) {
		out = append(out, Template{Kind: kind, Namespace: ns, Name: name, Spec: spec, StatefulSetClaimTemplates: claims})
	}
	for _, o := range deployments.Items {
		add("Deployment", o.Namespace, o.Name, o.Spec.Template.Spec, nil)
	}
	for _, o := range statefulSets.Items {
		add("StatefulSet", o.Namespace, o.Name, o.Spec.Template.Spec, o.Spec.VolumeClaimTemplates)
	}
	for _, o := range daemonSets.Items {
		add("DaemonSet", o.Namespace, o.Name, o.Spec.Template.Spec, nil)
	}
	for _, o := range replicaSets.Items {
		add("ReplicaSet", o.Namespace, o.Name, o.Spec.Template.Spec, nil)
	}
	for _, o := range jobs.Items {
		add("Job", o.Namespace, o.Name, o.Spec.Template.Spec, nil)
	}
	for _, o := range cronJobs.Items {
		add("CronJob", o.Namespace, o.Name, o.Spec.JobTemplate.Spec.Template.Spec, nil)
	}
	return out, nil
}
