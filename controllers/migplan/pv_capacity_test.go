package migplan

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/volumestats"
)

// TestCapacityProposals: seed §11.6.2 on the MigPlan. A nearly full volume gets a larger
// proposedCapacity and is named in PvCapacityAdjustmentRequired (False/Done when
// enable_dvm_pv_resizing adjusts it, True/NotDone when it will not); a volume no running pod
// mounts is named in PvUsageAnalysisFailed; a changed proposal must be confirmed again.
func TestCapacityProposals(t *testing.T) {
	const mi = 1 << 20
	claim := func(name, request string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name},
			Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(request)}}}}
	}
	pv := func(name, capacity string) migv1.PV {
		return migv1.PV{Name: name, Capacity: resource.MustParse(capacity), Selection: migv1.Selection{Action: migv1.PvCopyAction}}
	}
	p := capacityProposals{threshold: 3, usage: pvUsage{on: true, claims: map[string]volumestats.Usage{
		"app/full":  {UsedBytes: 63 * mi, CapacityBytes: 64 * mi},
		"app/half":  {UsedBytes: 8 * mi, CapacityBytes: 64 * mi},
		"app/large": {UsedBytes: 1 * mi, CapacityBytes: 64 * mi},
	}}}

	full := pv("pv-full", "64Mi")
	old := full
	old.ProposedCapacity, old.CapacityConfirmed = resource.MustParse("64Mi"), true
	full.CapacityConfirmed = true
	p.propose(&full, claim("full", "64Mi"), &old)
	half := pv("pv-half", "64Mi")
	p.propose(&half, claim("half", "64Mi"), nil)
	large := pv("pv-large", "64Mi") // the claim asks more than the PV holds: the larger wins
	p.propose(&large, claim("large", "100Mi"), nil)
	cold := pv("pv-cold", "64Mi")
	p.propose(&cold, claim("cold", "64Mi"), nil)
	skipped := pv("pv-skipped", "64Mi")
	skipped.Selection.Action = migv1.PvSkipAction
	p.propose(&skipped, claim("skipped", "64Mi"), nil)

	for _, c := range []struct {
		pv   migv1.PV
		want string
	}{{full, "65Mi"}, {half, "64Mi"}, {large, "100Mi"}, {cold, "0"}, {skipped, "0"}} {
		if got := c.pv.ProposedCapacity.String(); got != c.want {
			t.Errorf("%s: proposedCapacity %s, want %s", c.pv.Name, got, c.want)
		}
	}
	if full.CapacityConfirmed {
		t.Error("a changed proposal stays confirmed")
	}

	on := p.conditions(true)
	adjusted := conditions.Find(on, migv1.PvCapacityAdjustmentRequired)
	if adjusted == nil || adjusted.Status != migv1.False || adjusted.Reason != migv1.Done || adjusted.Category != migv1.CategoryWarn ||
		!adjusted.Durable || !strings.HasSuffix(adjusted.Message, "target cluster:  [pv-full]") {
		t.Errorf("with DVM resizing: %+v", adjusted)
	}
	unmeasured := conditions.Find(on, migv1.PvUsageAnalysisFailed)
	if unmeasured == nil || !strings.Contains(unmeasured.Message, "no running pod mounts them") || !strings.HasSuffix(unmeasured.Message, "[pv-cold]") {
		t.Errorf("unmeasured: %+v", unmeasured)
	}
	off := conditions.Find(p.conditions(false), migv1.PvCapacityAdjustmentRequired)
	if off == nil || off.Status != migv1.True || off.Reason != migv1.NotDone || !strings.HasSuffix(off.Message, "[pv-full]") {
		t.Errorf("without DVM resizing: %+v", off)
	}

	idle := capacityProposals{threshold: 3}
	untouched := pv("pv", "64Mi")
	idle.propose(&untouched, claim("full", "64Mi"), nil)
	if !untouched.ProposedCapacity.IsZero() || len(idle.conditions(true)) != 0 {
		t.Error("proposals were made with PV resizing off")
	}
	failed := capacityProposals{threshold: 3, usage: pvUsage{on: true, failed: "forbidden: bind ferry-pv-resizing"}}
	failed.propose(&untouched, claim("full", "64Mi"), nil)
	if c := conditions.Find(failed.conditions(true), migv1.PvUsageAnalysisFailed); c == nil || !strings.Contains(c.Message, "bind ferry-pv-resizing") {
		t.Errorf("a failed analysis does not say why: %+v", c)
	}
}
