package migmigration

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// Hook jobs (MTC's labels and defaults).
const (
	hookPhaseLabel       = "phase"
	hookOwnerLabel       = "owner"
	hookCorrelationLabel = "mighook"
	hookBackoffLimit     = 6
	hookDefaultDeadline  = 1800
	playbookKey          = "playbook.yml"
	playbookDir          = "/tmp/playbook"
	hookLogLines         = 20
	// podSecurityEnforceLabel and podSecurityRestricted are Pod Security admission's label
	// and its strictest level.
	podSecurityEnforceLabel = "pod-security.kubernetes.io/enforce"
	podSecurityRestricted   = "restricted"
)

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get

// runHook returns the step of a hook phase: it creates the hook's Job on its cluster, then
// follows it until it succeeds, or fails the migration with the Job's reason and the end of
// its pod's log.
func runHook(hookPhase string) RunFunc {
	return func(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
		ref, hook, err := s.hookFor(ctx, hookPhase)
		if err != nil || hook == nil {
			return itinerary.Done(), err
		}
		target := s.Source
		if hook.Spec.TargetCluster == migv1.HookTargetDestination {
			target = s.Destination
		}
		// Plan validation refuses other namespaces; checked again here, right before the
		// operator creates a pod with the plan's service account (the plan may have changed).
		if allowed := mapping.HookNamespaces(s.Plan, hook.Spec.TargetCluster); !slices.Contains(allowed, ref.ExecutionNamespace) {
			return itinerary.Failed(hookPhase+"HooksFailed", fmt.Sprintf(
				"Hook %s/%s (%s): executionNamespace %q is not allowed on the %s cluster: a hook Job may run only in %s.",
				hook.Namespace, hook.Name, hookPhase, ref.ExecutionNamespace, clusterRole(s, target), strings.Join(allowed, ", "))), nil
		}
		key := types.NamespacedName{Namespace: ref.ExecutionNamespace, Name: hookJobName(s.Plan.Name, hookPhase, string(s.Migration.UID))}
		if s.record(migv1.MigrationReference{Role: hookPhase + "Hook", Cluster: clusterRole(s, target), Kind: "Job", Namespace: key.Namespace, Name: key.Name}) {
			return requeueSoon()
		}
		job := &batchv1.Job{}
		err = target.Client.Get(ctx, key, job)
		switch {
		case apierrors.IsNotFound(err):
			return s.startHook(ctx, target, key, ref, hook, hookPhase)
		case err != nil:
			return itinerary.Outcome{}, fmt.Errorf("get hook Job %s: %w", key, err)
		}
		return s.followHook(ctx, target, job, hook, hookPhase)
	}
}

// hookFor returns the plan's hook for the phase (the last one, as MTC) and its MigHook.
func (s *Scope) hookFor(ctx context.Context, hookPhase string) (*migv1.MigPlanHook, *migv1.MigHook, error) {
	var ref *migv1.MigPlanHook
	for i := range s.Plan.Spec.Hooks {
		if s.Plan.Spec.Hooks[i].Phase == hookPhase {
			ref = &s.Plan.Spec.Hooks[i]
		}
	}
	if ref == nil || ref.Reference == nil {
		return nil, nil, nil
	}
	ns := ref.Reference.Namespace
	if ns == "" {
		ns = s.Plan.Namespace
	}
	hook := &migv1.MigHook{}
	if err := s.Host.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Reference.Name}, hook); err != nil {
		return nil, nil, fmt.Errorf("get MigHook %s/%s: %w", ns, ref.Reference.Name, err)
	}
	return ref, hook, nil
}

// startHook creates the hook's ConfigMap (playbook hooks) and Job.
func (s *Scope) startHook(ctx context.Context, target Remote, key types.NamespacedName, ref *migv1.MigPlanHook, hook *migv1.MigHook, hookPhase string) (itinerary.Outcome, error) {
	sa := &corev1.ServiceAccount{}
	if err := target.Client.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: ref.ServiceAccount}, sa); err != nil {
		if apierrors.IsNotFound(err) {
			return itinerary.Failed(hookPhase+"HooksFailed", fmt.Sprintf("Hook %s/%s (%s): ServiceAccount %s/%s does not exist on the %s cluster.",
				hook.Namespace, hook.Name, hookPhase, key.Namespace, ref.ServiceAccount, clusterRole(s, target))), nil
		}
		return itinerary.Outcome{}, fmt.Errorf("get ServiceAccount %s/%s: %w", key.Namespace, ref.ServiceAccount, err)
	}
	ns := &corev1.Namespace{}
	if err := target.Client.Get(ctx, types.NamespacedName{Name: key.Namespace}, ns); err != nil {
		return itinerary.Outcome{}, fmt.Errorf("get namespace %s: %w", key.Namespace, err)
	}
	labels := map[string]string{hookCorrelationLabel: string(hook.UID), hookPhaseLabel: hookPhase, hookOwnerLabel: string(s.Migration.UID)}
	container := corev1.Container{
		Name:  dns1123Label(s.Plan.Name+"-"+hookPhase, 63),
		Image: hook.Spec.Image,
		Env: append([]corev1.EnvVar{
			{Name: "MIGRATION_NAMESPACES", Value: strings.Join(s.hookNamespaces(target), ",")},
			{Name: "MIGRATION_PLAN_NAME", Value: s.Plan.Name},
		}, s.Settings.ProxyEnv()...),
		Resources:       *s.Settings.HookResources.DeepCopy(),
		SecurityContext: hookContainerSecurity(ns),
	}
	var volumes []corev1.Volume
	if !hook.Spec.Custom {
		playbook, err := base64.StdEncoding.DecodeString(hook.Spec.Playbook)
		if err != nil {
			return itinerary.Failed(hookPhase+"HooksFailed", fmt.Sprintf("Hook %s/%s: the playbook is not base64: %v", hook.Namespace, hook.Name, err)), nil
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: labels},
			Data: map[string]string{playbookKey: string(playbook)}}
		if err := target.Client.Create(ctx, cm); err != nil && !apierrors.IsAlreadyExists(err) {
			return itinerary.Outcome{}, fmt.Errorf("create hook ConfigMap %s: %w", key, err)
		}
		if container.Image == "" {
			container.Image = s.Settings.HookRunnerImage
		}
		// The runner image's PATH has ansible-playbook; the playbook runs against the pod itself.
		container.Command = []string{"ansible-playbook", "-i", "localhost,", "-c", "local", playbookDir + "/" + playbookKey}
		container.VolumeMounts = []corev1.VolumeMount{{Name: "playbook", MountPath: playbookDir}}
		volumes = []corev1.Volume{{Name: "playbook", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: key.Name}}}}}
	}
	deadline := hook.Spec.ActiveDeadlineSeconds
	if deadline <= 0 {
		deadline = hookDefaultDeadline
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: labels},
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr.To[int32](hookBackoffLimit),
			ActiveDeadlineSeconds: ptr.To(deadline),
			// A hook that exits non-zero has failed: running the same script again would take
			// minutes of Job back-off (MTC's way) to fail the same way. Pods lost to the
			// infrastructure (evicted, node gone) are retried up to the back-off limit.
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionFailJob,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{0},
				},
			}}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy:      corev1.RestartPolicyNever,
					ServiceAccountName: ref.ServiceAccount,
					SecurityContext: &corev1.PodSecurityContext{
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{container},
					Volumes:    volumes,
				},
			},
		},
	}
	if err := target.Client.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
		return itinerary.Outcome{}, fmt.Errorf("create hook Job %s: %w", key, err)
	}
	s.setProgress(fmt.Sprintf("Job %s: created on the %s cluster.", key, clusterRole(s, target)))
	return itinerary.Poll(pollWorkload), nil
}

// followHook reports the Job's state; a finished Job ends the phase.
func (s *Scope) followHook(ctx context.Context, target Remote, job *batchv1.Job, hook *migv1.MigHook, hookPhase string) (itinerary.Outcome, error) {
	key := client.ObjectKeyFromObject(job)
	attempts := job.Status.Failed + job.Status.Active + job.Status.Succeeded
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			s.setProgress(fmt.Sprintf("Job %s: Succeeded", key))
			return itinerary.Done(), nil
		case batchv1.JobFailed:
			s.setProgress(fmt.Sprintf("Job %s: Failed", key))
			msg := fmt.Sprintf("Hook %s/%s (%s) failed on the %s cluster: Job %s: %s: %s.", hook.Namespace, hook.Name, hookPhase,
				clusterRole(s, target), key, c.Reason, c.Message)
			if tail := lastLog(ctx, target, job); tail != "" {
				msg += " Last log lines: " + tail
			}
			return itinerary.Failed(hookPhase+"HooksFailed", msg), nil
		}
	}
	s.setProgress(fmt.Sprintf("Job %s: Running (attempt %d of %d)", key, max(attempts, 1), hookBackoffLimit+1))
	refused, err := refusedPods(ctx, target, job)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	if refused != "" {
		s.notice(migv1.FailedCreatingHookPods, fmt.Sprintf("Hook %s/%s (%s): the %s cluster refuses the pods of Job %s: %s",
			hook.Namespace, hook.Name, hookPhase, clusterRole(s, target), key, refused))
	}
	out := itinerary.Poll(pollWorkload).Observed(fmt.Sprintf("hook Job %s on the %s cluster", key, clusterRole(s, target)), jobState(job, refused))
	// A running hook is bounded by its Job's activeDeadlineSeconds; the watchdog is for hooks
	// whose pods never run.
	out.Progress.Bounded = ptr.Deref(job.Status.Ready, 0) > 0
	return out, nil
}

// jobFailedCreate is the reason of the events the Job controller records when the cluster
// refuses to create a Job's pod (quota, LimitRange, Pod Security admission).
const jobFailedCreate = "FailedCreate"

// refusedPods returns why the cluster refuses to create the pods of a Job that has none: the
// message of the Job controller's latest FailedCreate event, or "". A Job shows no condition
// for it, only events.
func refusedPods(ctx context.Context, target Remote, job *batchv1.Job) (string, error) {
	if job.Status.Active > 0 || job.Status.Succeeded > 0 {
		return "", nil
	}
	list := &corev1.EventList{}
	if err := target.Client.List(ctx, list, client.InNamespace(job.Namespace),
		client.MatchingFields{"involvedObject.name": job.Name, "reason": jobFailedCreate}); err != nil {
		return "", fmt.Errorf("list events of hook Job %s/%s: %w", job.Namespace, job.Name, err)
	}
	var latest *corev1.Event
	for i := range list.Items {
		e := &list.Items[i]
		if e.InvolvedObject.Kind != "Job" || e.InvolvedObject.UID != job.UID {
			continue
		}
		if latest == nil || eventTime(e).After(eventTime(latest)) {
			latest = e
		}
	}
	if latest == nil {
		return "", nil
	}
	return latest.Message, nil
}

// eventTime is when the event last happened.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// lastLog returns the end of the log of the Job's most recent pod, or "".
func lastLog(ctx context.Context, target Remote, job *batchv1.Job) string {
	pods := &corev1.PodList{}
	if err := target.Client.List(ctx, pods, client.InNamespace(job.Namespace), client.MatchingLabels{"job-name": job.Name}); err != nil || len(pods.Items) == 0 {
		return ""
	}
	latest := &pods.Items[0]
	for i := range pods.Items {
		if pods.Items[i].CreationTimestamp.After(latest.CreationTimestamp.Time) {
			latest = &pods.Items[i]
		}
	}
	cs, err := kubernetes.NewForConfig(target.Config)
	if err != nil {
		return ""
	}
	raw, err := cs.CoreV1().Pods(latest.Namespace).GetLogs(latest.Name, &corev1.PodLogOptions{TailLines: ptr.To[int64](hookLogLines)}).DoRaw(ctx)
	if err != nil {
		return ""
	}
	return strings.Join(strings.Fields(strings.TrimSpace(string(raw))), " ")
}

// hookNamespaces are the plan's namespaces as named on the hook's cluster (MTC passed the raw
// "src:dest" entries).
func (s *Scope) hookNamespaces(target Remote) []string {
	if target.Cluster.UID == s.Destination.Cluster.UID && s.Destination.Cluster.UID != s.Source.Cluster.UID {
		return mapping.Destinations(s.Plan)
	}
	return s.sourceNamespaces()
}

// deleteHookJobs deletes hook Jobs (with their pods) and ConfigMaps: the migration's own when
// it is canceled, those of every migration of the plan's hooks on rollback.
func deleteHookJobs(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	for _, ref := range s.Plan.Spec.Hooks {
		if ref.ExecutionNamespace == "" {
			continue
		}
		sel := client.MatchingLabels{hookOwnerLabel: string(s.Migration.UID)}
		if s.Facts.Rollback {
			_, hook, err := s.hookFor(ctx, ref.Phase)
			if err != nil || hook == nil {
				continue // a hook deleted since has nothing to find by
			}
			sel = client.MatchingLabels{hookCorrelationLabel: string(hook.UID)}
		}
		for _, c := range s.clusters() {
			in := client.InNamespace(ref.ExecutionNamespace)
			if err := c.remote.Client.DeleteAllOf(ctx, &batchv1.Job{}, in, sel, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
				return itinerary.Outcome{}, fmt.Errorf("delete hook Jobs on the %s cluster: %w", c.role, err)
			}
			if err := c.remote.Client.DeleteAllOf(ctx, &corev1.ConfigMap{}, in, sel); err != nil {
				return itinerary.Outcome{}, fmt.Errorf("delete hook ConfigMaps on the %s cluster: %w", c.role, err)
			}
		}
	}
	return itinerary.Done(), nil
}

// hookJobName is the deterministic name of a migration's hook Job and ConfigMap: a DNS-1123
// label, so that it is also a valid pod name prefix and host name whatever the plan's name
// (a DNS subdomain, which may hold dots).
func hookJobName(plan, hookPhase, migrationUID string) string {
	sum := sha256.Sum256([]byte(migrationUID))
	suffix := "-" + hex.EncodeToString(sum[:])[:8]
	return dns1123Label(plan+"-"+hookPhase, 63-len(suffix)) + suffix
}

// dns1123Label turns s into a DNS-1123 label of at most n characters: lower case, every
// character other than a-z, 0-9 and "-" replaced by "-", no "-" at either end. Container
// names must be labels; plan names are subdomains ("shop.v2" would make the Job invalid).
func dns1123Label(s string, n int) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	out := string(b)
	if len(out) > n {
		out = out[:n]
	}
	return strings.Trim(out, "-")
}

// hookContainerSecurity is the hook container's security context: the restricted Pod
// Security profile as far as Ferry can apply it to an image it does not know (no privilege
// escalation, every capability dropped; seccomp RuntimeDefault is set on the pod).
//
// runAsNonRoot is set only in a namespace that enforces the restricted level, where a pod
// without it is refused at admission anyway. Elsewhere the image's own user applies: Ferry
// cannot know it (the default Ansible runner's included), runAsNonRoot on an image whose user
// is root or not numeric makes the kubelet refuse to start it, and an explicit runAsUser
// would conflict with OpenShift's per-namespace user ranges.
func hookContainerSecurity(ns *corev1.Namespace) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	if ns.Labels[podSecurityEnforceLabel] == podSecurityRestricted {
		sc.RunAsNonRoot = ptr.To(true)
	}
	return sc
}

// clusterRole names the cluster of r in messages.
func clusterRole(s *Scope, r Remote) string {
	if r.Cluster.UID == s.Source.Cluster.UID {
		return onSource
	}
	return onDestination
}
