package migplan

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/workloads"
)

// Messages of the PV discovery conditions (MTC's wording).
const (
	pvsDiscoveredMessage   = "The `persistentVolumes` list has been updated with discovered PVs."
	pvLimitExceededMessage = "PV limit: %d exceeded, found: %d."
	noCephMessage          = "Ceph is not available on destination. If this is desired, please install the rook " +
		"operator. The following PVs will use the default storage class instead: %s"
)

// pvExcludingResources are the excluded resources that turn PV discovery off.
var pvExcludingResources = []string{"persistentvolumeclaims", "persistentvolumes"}

// DiscoveryInput is everything PV discovery looks at, read from the source and destination clusters.
type DiscoveryInput struct {
	Plan        *migv1.MigPlan                 // spec.namespaces and the existing spec.persistentVolumes (user selections)
	PVs         []corev1.PersistentVolume      // all PVs of the source cluster
	PVCs        []corev1.PersistentVolumeClaim // PVCs in the plan's source namespaces
	Pods        []corev1.Pod                   // pods in the plan's source namespaces
	Templates   []PodTemplateOwner             // pod templates of workloads in those namespaces
	SrcClasses  []storagev1.StorageClass
	DestClasses []storagev1.StorageClass
	Settings    settings.Settings
	// StorageConversion: the plan converts storage within one cluster, so every claim is
	// copied into a new one (see conversionName).
	StorageConversion bool
	// Usage is the source claims' measured usage, for proposed capacities (PV resizing).
	Usage pvUsage
}

// PodTemplateOwner is the pod template of a workload, so that claims of scaled-down
// workloads count as referenced.
type PodTemplateOwner = workloads.Template

// DiscoveryResult is what PV discovery found.
type DiscoveryResult struct {
	PersistentVolumes                     []migv1.PV // the new spec.persistentVolumes, sorted by name
	SrcStorageClasses, DestStorageClasses []migv1.StorageClass
	Conditions                            []migv1.Condition // PvsDiscovered, PvLimitExceeded, PvWarnNoCephAvailable
}

// DiscoverPVs computes the plan's PV list (MTC's updatePvs): one entry per Bound PV whose
// claim is in a source namespace. Entries already in the plan keep the user's selection;
// only their capacity, storage class, supported options and claim details are refreshed.
// New entries get MTC's defaults. PVs no longer found are dropped.
func DiscoverPVs(in DiscoveryInput) DiscoveryResult {
	res := DiscoveryResult{
		SrcStorageClasses:  toMigStorageClasses(in.SrcClasses),
		DestStorageClasses: toMigStorageClasses(in.DestClasses),
	}
	if pvsExcluded(in.Settings.ExcludedResources) {
		res.Conditions = []migv1.Condition{pvsDiscovered()}
		return res
	}
	d := newDiscovery(in, res.SrcStorageClasses, res.DestStorageClasses)
	res.PersistentVolumes, res.Conditions = d.run()
	return res
}

// pvsExcluded reports whether the excluded resources turn PV discovery off.
func pvsExcluded(excluded []string) bool {
	return slices.ContainsFunc(excluded, func(r string) bool {
		return slices.Contains(pvExcludingResources, strings.ToLower(strings.TrimSpace(r)))
	})
}

// discovery holds the indexes of one PV discovery run.
type discovery struct {
	in         DiscoveryInput
	src, dest  []migv1.StorageClass
	namespaces map[string]bool
	existing   []migv1.PV
	renames    map[claimKey]string
	suffix     string
	bound      boundPVs
	usage      usageIndex
	proposals  capacityProposals
}

func newDiscovery(in DiscoveryInput, src, dest []migv1.StorageClass) *discovery {
	d := &discovery{
		in: in, src: src, dest: dest,
		namespaces: sourceNamespaces(in.Plan),
		bound:      indexBoundPVs(in.PVs),
		usage:      indexUsage(in.Pods, in.Templates),
		proposals:  capacityProposals{usage: in.Usage, threshold: in.Settings.PVResizingThreshold},
	}
	if in.Plan != nil {
		d.existing = in.Plan.Spec.PersistentVolumes
		if in.Plan.Status.Suffix != nil {
			d.suffix = *in.Plan.Status.Suffix
		}
	}
	d.renames = pvcRenames(d.existing)
	if in.StorageConversion {
		d.conversionRenames()
	}
	return d
}

// planUID is the plan's UID, or "" without a plan.
func (d *discovery) planUID() string {
	if d.in.Plan == nil {
		return ""
	}
	return string(d.in.Plan.UID)
}

// run builds the PV list and its conditions.
func (d *discovery) run() ([]migv1.PV, []migv1.Condition) {
	var out []migv1.PV
	var noCeph []string
	seen := map[string]bool{}
	for i := range d.in.PVCs {
		pvc := &d.in.PVCs[i]
		if !d.namespaces[pvc.Namespace] || ignoredClaim(pvc, d.suffix) || (d.in.StorageConversion && conversionIgnored(pvc, d.planUID())) {
			continue
		}
		pv := d.bound.forClaim(pvc)
		if pv == nil || seen[pv.Name] {
			continue
		}
		seen[pv.Name] = true
		entry, cephFallback := d.entry(pv, pvc)
		out = append(out, entry)
		if cephFallback {
			noCeph = append(noCeph, entry.Name)
		}
	}
	slices.SortFunc(out, func(a, b migv1.PV) int { return strings.Compare(a.Name, b.Name) })
	slices.Sort(noCeph)
	return out, d.conditions(len(out), noCeph)
}

// entry builds the plan entry of a PV and reports whether it falls back to the default class
// because Ceph is missing on the destination.
func (d *discovery) entry(pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) (migv1.PV, bool) {
	claim := claimDetails(pvc, pv, d.renames, d.usage.lookup(keyOf(pvc)))
	out := migv1.PV{
		Name:         pv.Name,
		Capacity:     pv.Spec.Capacity[corev1.ResourceStorage].DeepCopy(),
		StorageClass: pvStorageClassName(pv),
		Supported: migv1.Supported{
			Actions:     supportedActions(pv, d.in.Settings.PVMoveStorageClasses),
			CopyMethods: supportedCopyMethods(),
		},
		PVC: claim,
	}
	choice := chooseDestClass(pv, claim.AccessModes, d.src, d.dest)
	old := d.previous(pv.Name, pvc)
	if old != nil {
		out.Selection = keptSelection(old.Selection, out.Supported.Actions)
		out.CapacityConfirmed = old.CapacityConfirmed
		out.ProposedCapacity = old.ProposedCapacity.DeepCopy()
	} else {
		out.Selection = defaultSelection(out.Supported.Actions, pvVolumeMode(pv, claim), choice.name)
	}
	d.proposals.propose(&out, pvc, old)
	cephFallback := choice.cephFallback && out.Selection.Action == migv1.PvCopyAction &&
		out.Selection.StorageClass == choice.name
	return out, cephFallback
}

// previous returns the plan's entry for the PV, if it still belongs to the same claim.
func (d *discovery) previous(name string, pvc *corev1.PersistentVolumeClaim) *migv1.PV {
	for i := range d.existing {
		old := &d.existing[i]
		if old.Name != name || old.PVC.Namespace != pvc.Namespace {
			continue
		}
		if src, _, err := mapping.Parse(old.PVC.Name); err != nil || src == pvc.Name {
			return old
		}
	}
	return nil
}

// pvVolumeMode returns the volume mode of the PV, else of its claim.
func pvVolumeMode(pv *corev1.PersistentVolume, claim migv1.PVC) corev1.PersistentVolumeMode {
	if pv.Spec.VolumeMode != nil && *pv.Spec.VolumeMode != "" {
		return *pv.Spec.VolumeMode
	}
	return claim.VolumeMode
}

// conditions returns PvsDiscovered, and the Ceph and limit warnings when they apply.
func (d *discovery) conditions(count int, noCeph []string) []migv1.Condition {
	out := []migv1.Condition{pvsDiscovered()}
	if len(noCeph) > 0 {
		out = append(out, conditions.Warn(migv1.PvWarnNoCephAvailable, "", fmt.Sprintf(noCephMessage, nameList(noCeph))))
	}
	limit := d.in.Settings.PVLimit
	if limit <= 0 {
		limit = settings.DefaultPVLimit
	}
	if count > limit {
		out = append(out, conditions.Warn(migv1.PvLimitExceeded, migv1.LimitExceeded,
			fmt.Sprintf(pvLimitExceededMessage, limit, count)))
	}
	return append(out, d.proposals.conditions(d.in.Settings.EnableDVMPVResizing)...)
}

func pvsDiscovered() migv1.Condition {
	return conditions.Required(migv1.PvsDiscovered, migv1.Done, pvsDiscoveredMessage)
}
