package quiesce

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// scope answers which namespaces, workloads and pods Options.OnlyPVCs selects.
type scope struct {
	only map[types.NamespacedName]bool
	// namespaces holds the namespaces with at least one selected PVC.
	namespaces map[string]bool
}

func newScope(opts Options) scope {
	s := scope{only: opts.OnlyPVCs}
	if s.only != nil {
		s.namespaces = map[string]bool{}
		for k, v := range s.only {
			if v {
				s.namespaces[k.Namespace] = true
			}
		}
	}
	return s
}

// everything is true when OnlyPVCs is nil: every workload is in scope.
func (s scope) everything() bool { return s.only == nil }

// namespace says whether anything in ns can be in scope.
func (s scope) namespace(ns string) bool { return s.everything() || s.namespaces[ns] }

func (s scope) selected(ns, claim string) bool {
	return s.only[types.NamespacedName{Namespace: ns, Name: claim}]
}

func (s scope) anyClaim(ns string, claims []string) bool {
	for _, c := range claims {
		if s.selected(ns, c) {
			return true
		}
	}
	return false
}

// podSpecMounts says whether spec mounts a selected PVC of namespace ns.
func (s scope) podSpecMounts(ns string, spec *corev1.PodSpec) bool {
	return s.anyClaim(ns, claimNames(spec))
}

// claimTemplatesMatch says whether a selected PVC was made from one of the StatefulSet's
// volumeClaimTemplates: such PVCs are named <template>-<statefulset>-<ordinal>.
func (s scope) claimTemplatesMatch(ss *appsv1.StatefulSet) bool {
	for k, v := range s.only {
		if !v || k.Namespace != ss.Namespace {
			continue
		}
		for i := range ss.Spec.VolumeClaimTemplates {
			p := ss.Spec.VolumeClaimTemplates[i].Name + "-" + ss.Name + "-"
			if ordinal, ok := strings.CutPrefix(k.Name, p); ok {
				if _, err := strconv.ParseUint(ordinal, 10, 32); err == nil {
					return true
				}
			}
		}
	}
	return false
}

func claimNames(spec *corev1.PodSpec) []string {
	var out []string
	for i := range spec.Volumes {
		if pvc := spec.Volumes[i].PersistentVolumeClaim; pvc != nil {
			out = append(out, pvc.ClaimName)
		}
	}
	return out
}

// unstructuredClaims reads the claim names of spec.template.spec.volumes of an unstructured
// workload (a DeploymentConfig).
func unstructuredClaims(u *unstructured.Unstructured) []string {
	vols, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "volumes")
	var out []string
	for _, v := range vols {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if name, ok, _ := unstructured.NestedString(m, "persistentVolumeClaim", "claimName"); ok {
			out = append(out, name)
		}
	}
	return out
}

// quiescedOwners are the owner kinds whose pods Remaining waits for (MTC's list).
var quiescedOwners = map[schema.GroupKind]bool{
	{Group: "", Kind: "ReplicationController"}: true,
	{Group: "apps", Kind: "StatefulSet"}:       true,
	{Group: "apps", Kind: "ReplicaSet"}:        true,
	{Group: "apps", Kind: "DaemonSet"}:         true,
	{Group: "batch", Kind: "Job"}:              true,
}

// remains says whether pod is one Remaining reports: not terminal, owned by a quiesced kind,
// and, when OnlyPVCs is set, mounting a selected PVC (the pods of the workloads Quiesce
// stopped; a pod that mounts no selected PVC belongs to a workload left running).
func (s scope) remains(pod *corev1.Pod) bool {
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown:
		return false
	}
	owned := false
	for _, ref := range pod.OwnerReferences {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err == nil && quiescedOwners[gv.WithKind(ref.Kind).GroupKind()] {
			owned = true
			break
		}
	}
	if !owned {
		return false
	}
	return s.everything() || s.podSpecMounts(pod.Namespace, &pod.Spec)
}

// Remaining lists the pods ("ns/name") of quiesced kinds that are still not terminal (not
// Succeeded/Failed/Unknown and not gone) in opts.Namespaces: pods owned by a
// ReplicationController, StatefulSet, ReplicaSet, DaemonSet or Job. When OnlyPVCs is non-nil
// only pods that mount one of those PVCs count: the pods of the workloads Quiesce stops.
// EnsureSrcQuiesced polls this until empty.
func Remaining(ctx context.Context, c client.Client, opts Options) ([]string, error) {
	s := newScope(opts)
	var out []string
	for _, ns := range opts.Namespaces {
		if !s.namespace(ns) {
			continue
		}
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("list pods in namespace %s: %w", ns, err)
		}
		for i := range pods.Items {
			if s.remains(&pods.Items[i]) {
				out = append(out, ns+"/"+pods.Items[i].Name)
			}
		}
	}
	return out, nil
}
