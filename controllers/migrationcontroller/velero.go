package migrationcontroller

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/velerodeploy"
)

const (
	// veleroRolloutPoll is how often a rollout of Velero is observed. The Deployment is read
	// without an informer (one would cache every Deployment of the cluster for one object).
	veleroRolloutPoll = 5 * time.Second
	// veleroNotInstallablePoll is how often a missing config/velero is looked for again.
	veleroNotInstallablePoll = 30 * time.Second
	// veleroResync re-applies a ready Deployment now and then, so that an edit by hand (an
	// image changed, the Deployment deleted) is repaired without waiting for a spec change.
	veleroResync = 5 * time.Minute
	// configVeleroHint says what config/velero is and how to apply it.
	configVeleroHint = "apply config/velero (kustomize build config/velero | kubectl apply --server-side -f -): " +
		"it holds Velero's CRDs, the ServiceAccount velero bound to cluster-admin and the operator's right to create " +
		"Velero's Deployment, which the operator never grants itself"
)

// veleroState is what became of migration_velero on one reconcile.
type veleroState struct {
	// wanted is migration_velero of the MigrationController in force.
	wanted bool
	// reason is migv1.Deployed when Velero is available, else why not.
	reason, message string
	// requeue is when to look again.
	requeue time.Duration
}

// reconcileVelero deploys, upgrades or removes Velero as mc (the MigrationController in force)
// says. Problems a user must act on come back in the state; errors are transient failures.
func (r *Reconciler) reconcileVelero(ctx context.Context, mc *migv1.MigrationController) (veleroState, error) {
	s := settings.FromSpec(&mc.Spec)
	key := client.ObjectKey{Namespace: s.VeleroNamespace, Name: velerodeploy.Name}
	existing := &appsv1.Deployment{}
	found := true
	if err := r.APIReader.Get(ctx, key, existing); apierrors.IsNotFound(err) {
		found = false
	} else if err != nil {
		return veleroState{}, fmt.Errorf("read Deployment %s: %w", key, err)
	}
	managed := found && existing.Labels[velerodeploy.ManagedByLabel] == velerodeploy.ManagedBy
	if !s.DeployVelero {
		if managed && existing.DeletionTimestamp.IsZero() {
			if err := r.Client.Delete(ctx, existing); client.IgnoreNotFound(err) != nil {
				return veleroState{}, fmt.Errorf("delete the Velero Deployment %s (migration_velero is off): %w", key, err)
			}
		}
		return veleroState{}, nil
	}
	if found && !managed {
		return veleroState{wanted: true, reason: migv1.NotManaged, requeue: veleroNotInstallablePoll, message: fmt.Sprintf(
			"Deployment %s exists and was not deployed by Ferry (no label %s=%s); Ferry leaves it alone. "+
				"Delete it to let migration_velero deploy Velero, or set migration_velero to false to keep it.",
			key, velerodeploy.ManagedByLabel, velerodeploy.ManagedBy)}, nil
	}
	sa := &corev1.ServiceAccount{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: s.VeleroNamespace, Name: velerodeploy.ServiceAccountName}, sa); apierrors.IsNotFound(err) {
		return veleroState{wanted: true, reason: migv1.NotInstallable, requeue: veleroNotInstallablePoll, message: fmt.Sprintf(
			"ServiceAccount %s/%s does not exist: %s.", s.VeleroNamespace, velerodeploy.ServiceAccountName, configVeleroHint)}, nil
	} else if err != nil {
		return veleroState{}, fmt.Errorf("read ServiceAccount %s/%s: %w", s.VeleroNamespace, velerodeploy.ServiceAccountName, err)
	}
	want, err := velerodeploy.Deployment(velerodeploy.Spec{
		Namespace: s.VeleroNamespace, Image: s.VeleroImage, AWSPluginImage: s.VeleroAWSPluginImage,
	})
	if err != nil {
		return veleroState{}, err
	}
	if want.Namespace == mc.Namespace {
		// Deleting the MigrationController then removes Velero, as with MTC's operator.
		if err := controllerutil.SetControllerReference(mc, want, r.Client.Scheme()); err != nil {
			return veleroState{}, fmt.Errorf("own the Velero Deployment: %w", err)
		}
	}
	if err := r.apply(ctx, want); apierrors.IsForbidden(err) {
		return veleroState{wanted: true, reason: migv1.NotInstallable, requeue: veleroNotInstallablePoll,
			message: fmt.Sprintf("The operator may not create Deployment %s (%v): %s.", key, err, configVeleroHint)}, nil
	} else if err != nil {
		return veleroState{}, err
	}
	if err := r.APIReader.Get(ctx, key, existing); err != nil {
		return veleroState{}, fmt.Errorf("read Deployment %s: %w", key, err)
	}
	return rolloutState(existing, want, func() string { return r.podProblems(ctx, existing) }), nil
}

// apply creates or updates d by server-side apply, owning only the fields the template sets.
func (r *Reconciler) apply(ctx context.Context, d *appsv1.Deployment) error {
	d.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	if err != nil {
		return fmt.Errorf("encode the Velero Deployment: %w", err)
	}
	unstructured.RemoveNestedField(u, "status")
	cfg := client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: u})
	if err := r.Client.Apply(ctx, cfg, client.FieldOwner(velerodeploy.FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return nil
}

// rolloutState reports whether d, applied from want, is rolled out and available, and if not,
// why, with podProblems (its pods' container states: an image that does not pull, a crash loop).
func rolloutState(d, want *appsv1.Deployment, podProblems func() string) veleroState {
	images := fmt.Sprintf("image %s, AWS plugin %s", want.Spec.Template.Spec.Containers[0].Image,
		want.Spec.Template.Spec.InitContainers[0].Image)
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	st := d.Status
	if d.Status.ObservedGeneration >= d.Generation && replicas > 0 && st.UpdatedReplicas == replicas &&
		st.AvailableReplicas == replicas && st.Replicas == replicas {
		return veleroState{wanted: true, reason: migv1.Deployed, requeue: veleroResync, message: fmt.Sprintf(
			"Velero runs in %s (%s): %d of %d replicas available.", d.Namespace, images, st.AvailableReplicas, replicas)}
	}
	msg := fmt.Sprintf("Velero is rolling out in %s (%s): %d of %d replicas updated, %d available.",
		d.Namespace, images, st.UpdatedReplicas, replicas, st.AvailableReplicas)
	if replicas == 0 {
		msg = fmt.Sprintf("Deployment %s/%s is scaled to zero replicas; scale it to 1 to run Velero.", d.Namespace, d.Name)
	}
	if why := podProblems(); why != "" {
		msg += " " + why
	}
	return veleroState{wanted: true, reason: migv1.Deploying, message: msg, requeue: veleroRolloutPoll}
}

// podProblems names the waiting or failing containers of d's pods, such as an image that
// does not pull; empty when none (or the pods cannot be read).
func (r *Reconciler) podProblems(ctx context.Context, d *appsv1.Deployment) string {
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(d.Namespace),
		client.MatchingLabels(d.Spec.Template.Labels)); err != nil {
		return ""
	}
	var out []string
	for _, p := range pods.Items {
		statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
		for _, c := range statuses {
			switch {
			case c.State.Waiting != nil && c.State.Waiting.Reason != "" && c.State.Waiting.Reason != "PodInitializing" &&
				c.State.Waiting.Reason != "ContainerCreating":
				out = append(out, fmt.Sprintf("Pod %s container %s: %s %s", p.Name, c.Name, c.State.Waiting.Reason,
					strings.TrimSpace(c.State.Waiting.Message)))
			case c.State.Terminated != nil && c.State.Terminated.ExitCode != 0:
				out = append(out, fmt.Sprintf("Pod %s container %s exited %d: %s", p.Name, c.Name,
					c.State.Terminated.ExitCode, strings.TrimSpace(c.State.Terminated.Message)))
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
