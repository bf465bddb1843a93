package migplan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/volumestats"
)

// Messages of the plan's PV resizing conditions (MTC's wording, seed §11.6.2).
const (
	capacityAdjustedMessage = "Capacity of the following volumes will be automatically adjusted to avoid disk capacity " +
		"issues in the target cluster:  [%s]"
	capacityAtRiskMessage = "Migrating data of following volumes may result in a failure either due to mismatch in their " +
		"requested and actual capacities or disk usage being close to 100%%:  [%s]"
	usageUnmeasuredMessage = "Failed to gather reliable PV usage data for the following volumes (%s), their proposed " +
		"capacity is their current one: [%s]"
	// usageTimeout bounds the reads of the kubelets' statistics of one plan reconcile.
	usageTimeout = 20 * time.Second
)

// pvUsage is the source claims' usage, measured for PV resizing as MTC's MigAnalytic extended
// PV analysis did: MTC exec'd df and du in its node agents, Ferry reads the kubelets'
// statistics through the API server (no exec, and nothing to deploy).
type pvUsage struct {
	// on: enable_dvm_pv_resizing or enable_intelligent_pv_resize asks for the analysis.
	on bool
	// claims are the measured claims by "namespace/name": those a running pod mounts.
	claims map[string]volumestats.Usage
	// failed says why nothing could be measured; "" when the kubelets answered.
	failed string
}

// resizingAnalysis says whether the settings ask for PV usage analysis: MTC ran it with
// enable_intelligent_pv_resize; Ferry also runs it when enable_dvm_pv_resizing is on, as the
// seed's procedure sets only that switch and expects the MigPlan condition.
func resizingAnalysis(s settings.Settings) bool {
	return s.EnableDVMPVResizing || s.EnableIntelligentPVResize
}

// measureUsage reads the usage of the source claims that running pods mount. A failure does
// not fail the reconcile: the plan says which volumes went unmeasured and why.
func measureUsage(ctx context.Context, cs kubernetes.Interface, pods []corev1.Pod, pvcs []corev1.PersistentVolumeClaim) pvUsage {
	claims := make([]string, 0, len(pvcs))
	for _, pvc := range pvcs {
		claims = append(claims, pvc.Namespace+"/"+pvc.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, usageTimeout)
	defer cancel()
	usage, err := volumestats.Claims(ctx, cs, pods, claims)
	switch {
	case apierrors.IsForbidden(err):
		return pvUsage{on: true, failed: "the source cluster's token may not read the kubelets' statistics, nodes/proxy: " +
			"bind its ServiceAccount to ClusterRole ferry-pv-resizing"}
	case err != nil:
		return pvUsage{on: true, failed: err.Error()}
	}
	return pvUsage{on: true, claims: usage}
}

// capacityProposals fills proposedCapacity of the plan's PVs and collects what the
// conditions report.
type capacityProposals struct {
	usage      pvUsage
	threshold  int
	adjusted   []string // PVs whose proposed capacity exceeds their capacity
	unmeasured []string // PVs no running pod mounts, or all of them when the analysis failed
}

// propose sets out.ProposedCapacity from the claim's usage (MTC's rule: the larger of the
// claim's request and the PV's capacity, grown by pv_resizing_threshold when nearly full). A
// proposal that changes resets capacityConfirmed, so the user confirms the new one.
func (p *capacityProposals) propose(out *migv1.PV, pvc *corev1.PersistentVolumeClaim, old *migv1.PV) {
	if !p.usage.on || out.Selection.Action == migv1.PvSkipAction {
		return
	}
	u, ok := p.usage.claims[pvc.Namespace+"/"+pvc.Name]
	if !ok {
		p.unmeasured = append(p.unmeasured, out.Name)
		return
	}
	capacity := out.Capacity.DeepCopy()
	if req, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok && req.Cmp(capacity) > 0 {
		capacity = req.DeepCopy()
	}
	proposed, grow := volumestats.ProposedCapacity(capacity, u, p.threshold)
	if old != nil && old.ProposedCapacity.Cmp(proposed) != 0 {
		out.CapacityConfirmed = false
	}
	out.ProposedCapacity = proposed
	if grow {
		p.adjusted = append(p.adjusted, out.Name)
	}
}

// conditions are MTC's plan conditions of PV resizing: PvCapacityAdjustmentRequired, False
// and Done when enable_dvm_pv_resizing grows the destination PVCs, True and NotDone when it
// is off and the copy may run out of space; PvUsageAnalysisFailed for unmeasured volumes.
func (p *capacityProposals) conditions(dvmResizing bool) []migv1.Condition {
	var out []migv1.Condition
	if len(p.adjusted) > 0 {
		names := strings.Join(sortedCopy(p.adjusted), " ")
		c := migv1.Condition{Type: migv1.PvCapacityAdjustmentRequired, Status: migv1.True, Reason: migv1.NotDone,
			Category: migv1.CategoryWarn, Durable: true, Message: fmt.Sprintf(capacityAtRiskMessage, names)}
		if dvmResizing {
			c.Status, c.Reason, c.Message = migv1.False, migv1.Done, fmt.Sprintf(capacityAdjustedMessage, names)
		}
		out = append(out, c)
	}
	if len(p.unmeasured) > 0 {
		why := "no running pod mounts them"
		if p.usage.failed != "" {
			why = p.usage.failed
		}
		out = append(out, migv1.Condition{Type: migv1.PvUsageAnalysisFailed, Status: migv1.True, Category: migv1.CategoryWarn,
			Durable: true, Message: fmt.Sprintf(usageUnmeasuredMessage, why, strings.Join(sortedCopy(p.unmeasured), " "))})
	}
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
