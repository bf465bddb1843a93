package migplan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// validateSource checks what was read from the source cluster.
func validateSource(src *clusterFacts, namespaces []string, veleroNS string, podLimit int) []migv1.Condition {
	var out []migv1.Condition
	var missing []string
	for _, n := range append(slices.Clone(namespaces), veleroNS) {
		if !src.existing[n] && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		out = append(out, conditions.Critical(migv1.NamespaceNotFoundOnSourceCluster, migv1.NotFound,
			fmt.Sprintf("Namespaces [%s] not found on the source cluster.", strings.Join(missing, ", "))))
	}
	if running := countRunning(src.pods); running > podLimit {
		out = append(out, conditions.Warn(migv1.PodLimitExceeded, migv1.LimitExceeded,
			fmt.Sprintf("Pod limit: %d exceeded, found: %d.", podLimit, running)))
	}
	if len(unhealthyNamespaces(src.pods)) > 0 {
		out = append(out, conditions.Warn(migv1.SourcePodsNotHealthy, migv1.NotHealthy,
			"Source namespace(s) contain unhealthy pods. See: `Status.namespaces` for details."))
	}
	if len(src.unknownKinds) > 0 {
		out = append(out, conditions.Critical(migv1.InvalidResourceList, migv1.NotFound, fmt.Sprintf(
			"Resources [%s] specified in spec.includedResources not found. Resource Group & Kind must be valid.",
			strings.Join(src.unknownKinds, ", "))))
	}
	return out
}

// validateDestination checks what was read from the destination cluster.
func validateDestination(dest *clusterFacts, veleroNS string) []migv1.Condition {
	if dest.existing[veleroNS] {
		return nil
	}
	return []migv1.Condition{conditions.Critical(migv1.NamespaceNotFoundOnDestinationCluster, migv1.NotFound,
		fmt.Sprintf("Namespaces [%s] not found on the destination cluster.", veleroNS))}
}

func countRunning(pods []corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning {
			n++
		}
	}
	return n
}

// unhealthyNamespaces lists, per source namespace, the pods that failed, cannot be scheduled
// or cannot start their containers, grouped by the workload that owns them.
func unhealthyNamespaces(pods []corev1.Pod) []migv1.UnhealthyNamespace {
	byNS := map[string]map[string][]string{}
	for _, p := range pods {
		reason := unhealthy(&p)
		if reason == "" {
			continue
		}
		owner := "Pod/" + p.Name
		if ref := metav1ControllerOf(&p); ref != "" {
			owner = ref
		}
		if byNS[p.Namespace] == nil {
			byNS[p.Namespace] = map[string][]string{}
		}
		byNS[p.Namespace][owner] = append(byNS[p.Namespace][owner], fmt.Sprintf("Pod/%s: %s", p.Name, reason))
	}
	var out []migv1.UnhealthyNamespace
	for ns, workloads := range byNS {
		u := migv1.UnhealthyNamespace{Name: ns}
		for name, resources := range workloads {
			sort.Strings(resources)
			u.Workloads = append(u.Workloads, migv1.Workload{Name: name, Resources: resources})
		}
		sort.Slice(u.Workloads, func(i, j int) bool { return u.Workloads[i].Name < u.Workloads[j].Name })
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// unhealthy returns why a pod is unhealthy, or "".
func unhealthy(p *corev1.Pod) string {
	if p.Status.Phase == corev1.PodFailed {
		return "Failed"
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return "Unschedulable"
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && (w.Reason == "ImagePullBackOff" || w.Reason == "CrashLoopBackOff" || w.Reason == "ErrImagePull") {
			return w.Reason
		}
	}
	return ""
}

func metav1ControllerOf(p *corev1.Pod) string {
	for _, ref := range p.OwnerReferences {
		if ref.Controller != nil && *ref.Controller {
			return ref.Kind + "/" + ref.Name
		}
	}
	return ""
}
