package directvolumemigration

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/volumestats"
)

// sourceUsage measures the source PVCs' usage from the kubelets (enable_dvm_pv_resizing), for
// the PVCs a running pod mounts, by "namespace/name".
func (s *Scope) sourceUsage(ctx context.Context) (map[string]volumestats.Usage, error) {
	var claims []string
	for _, p := range s.pvcs() {
		claims = append(claims, pvcKey(p))
	}
	var pods []corev1.Pod
	for _, ns := range s.sourceNamespaces() {
		list := &corev1.PodList{}
		if err := s.Source.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("list pods in %s on the source cluster: %w", ns, err)
		}
		pods = append(pods, list.Items...)
	}
	usage, err := volumestats.Claims(ctx, s.Source.Logs, pods, claims)
	if apierrors.IsForbidden(err) {
		// The token lacks nodes/proxy (ferry-pv-resizing is opt-in): a migration is not worth
		// failing over a size estimate, so every volume keeps its size and the warning says why.
		s.usageForbidden = true
		return map[string]volumestats.Usage{}, nil
	}
	return usage, err
}

// resize grows the destination PVC pvc of p when its source is nearly full (MTC's rule,
// volumestats.ProposedCapacity) and returns what it did ("" when nothing); a PVC whose usage
// is unknown is recorded for the durable warning.
func (s *Scope) resize(pvc *corev1.PersistentVolumeClaim, p migv1.PVCToMigrate, usage map[string]volumestats.Usage) string {
	u, ok := usage[pvcKey(p)]
	if !ok {
		s.unmeasured = append(s.unmeasured, pvcKey(p))
		return ""
	}
	request := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	proposed, grow := volumestats.ProposedCapacity(request, u, s.Settings.PVResizingThreshold)
	if !grow {
		return ""
	}
	pvc.Spec.Resources.Requests[corev1.ResourceStorage] = proposed
	return fmt.Sprintf("%s %s→%s (%.0f%% used)", pvcKey(p), request.String(), proposed.String(), u.Percent(request.Value()))
}

// resizeConditions are the durable conditions of PV resizing: MTC's PvCapacityAdjustmentRequired
// (False, Done: the capacity was adjusted) naming the grown PVCs, and PvUsageAnalysisFailed
// naming those whose usage could not be measured (their size is kept).
func (s *Scope) resizeConditions() []migv1.Condition {
	var out []migv1.Condition
	if len(s.resized) > 0 {
		out = append(out, migv1.Condition{Type: migv1.PvCapacityAdjustmentRequired, Status: migv1.False, Reason: "Done",
			Category: migv1.CategoryWarn, Durable: true,
			Message: "Capacity of the following volumes will be automatically adjusted to avoid disk capacity issues in the target cluster: [" +
				strings.Join(sorted(s.resized), ", ") + "]"})
	}
	if len(s.unmeasured) > 0 {
		why := "no running pod mounts them"
		if s.usageForbidden {
			why = "the source cluster's token may not read the kubelets' statistics, nodes/proxy: bind its ServiceAccount to ClusterRole ferry-pv-resizing"
		}
		out = append(out, migv1.Condition{Type: migv1.PvUsageAnalysisFailed, Status: migv1.True, Category: migv1.CategoryWarn, Durable: true,
			Message: "PV resizing is on but the usage of these volumes could not be measured (" + why + "), so their size is kept: [" +
				strings.Join(sorted(s.unmeasured), ", ") + "]"})
	}
	return out
}

func sorted(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
