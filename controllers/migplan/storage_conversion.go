package migplan

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/claimswap"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// A storage conversion copies each selected claim into a new claim of the same namespace on
// another storage class, then points the workloads at it. The new claims are named
// "<name>-mig-<suffix>" (the plan's random suffix), and the claims of a StatefulSet's
// template "<template>-mig-<suffix>-<set>-<ordinal>", so that the set's renamed template
// names them (MTC's names).

// maxClaimName is the longest PVC name (a DNS subdomain).
const maxClaimName = 253

// conversionName is the name of the claim a storage conversion copies name into; template is
// the StatefulSet claim template name comes from, or "". A suffix "-new" or an earlier
// conversion's "-mig-xxxx" is replaced, so converting again does not grow the name.
func conversionName(name, template, suffix string) string {
	base, rest := name, ""
	if template != "" && strings.HasPrefix(name, template) {
		base, rest = template, name[len(template):]
	}
	base = strings.TrimSuffix(base, "-new")
	if i := strings.LastIndex(base, storageConversionInfix); i > 0 && len(base)-i == len(storageConversionInfix)+len(suffix) {
		base = base[:i]
	}
	tail := storageConversionInfix + suffix + rest
	if len(base)+len(tail) > maxClaimName {
		base = strings.TrimRight(base[:maxClaimName-len(tail)], "-.")
	}
	return base + tail
}

// conversionRenames names the new claim of every claim the plan has not renamed yet.
func (d *discovery) conversionRenames() {
	for i := range d.in.PVCs {
		key := keyOf(&d.in.PVCs[i])
		if _, ok := d.renames[key]; !ok {
			d.renames[key] = conversionName(key.name, d.usage.setTemplateOf(key), d.suffix)
		}
	}
}

// conversionIgnored reports the claims a storage conversion plan leaves out besides those of
// ignoredClaim: the claims a migration of the plan created, and those another plan's
// conversion copied from (their workloads mount that plan's copies).
func conversionIgnored(pvc *corev1.PersistentVolumeClaim, planUID string) bool {
	if pvc.Labels[migratedByPlanLabel] == planUID {
		return true
	}
	source := pvc.Labels[migv1.SourceForDirectVolumeMigrationLabel]
	return source != "" && source != planUID
}

// validateStorageConversion checks a storage conversion plan's volumes (MTC's rules): every
// selected claim is copied into a claim of another name, at least one claim is selected, and
// the cluster has a second storage class to convert to.
func validateStorageConversion(pvs []migv1.PV, classes []migv1.StorageClass) []migv1.Condition {
	var out []migv1.Condition
	var sameName []string
	selected := 0
	for _, pv := range pvs {
		if pv.Selection.Action == migv1.PvSkipAction {
			continue
		}
		selected++
		if src, dest, err := mapping.Parse(pv.PVC.Name); err == nil && src == dest {
			sameName = append(sameName, pv.PVC.Namespace+"/"+src)
		}
	}
	if len(sameName) > 0 {
		out = append(out, conditions.Error(migv1.PvNameConflict, migv1.NotDistinct, fmt.Sprintf(
			"A storage conversion copies each PVC into a new PVC of the same namespace, but these PVCs are mapped to their own names: %s. "+
				"Map them to new names (\"name:new-name\") in spec.persistentVolumes[].pvc.name.", nameList(sameName))))
	}
	switch {
	case len(pvs) > 0 && selected == 0:
		out = append(out, conditions.Critical(migv1.StorageClassConversionUnavailable, migv1.NotFound,
			"At least one PVC must be selected for storage class conversion."))
	case len(classes) < 2:
		out = append(out, conditions.Critical(migv1.StorageClassConversionUnavailable, migv1.NotFound,
			"Storage class conversion needs at least two storage classes in the cluster: one to convert from, one to convert to."))
	}
	return out
}

// validateClaimSwaps checks that a storage conversion can point each StatefulSet at the
// copies of its claims (claimswap.CheckStatefulSet), before a migration quiesces anything:
// a claim template of which some claims are selected and others not would start the set's
// replicas partly on empty claims, so the swap would refuse it after the copy.
func validateClaimSwaps(pvs []migv1.PV, pvcs []corev1.PersistentVolumeClaim, templates []PodTemplateOwner) []migv1.Condition {
	renames := claimswap.ConversionRenames(pvs, false)
	claims := map[string][]string{}
	for _, pvc := range pvcs {
		claims[pvc.Namespace] = append(claims[pvc.Namespace], pvc.Name)
	}
	var problems []string
	for _, t := range templates {
		if t.Kind != "StatefulSet" || len(renames[t.Namespace]) == 0 {
			continue
		}
		if err := claimswap.CheckStatefulSet(t.Namespace, t.Name, t.StatefulSetClaimTemplates, claims[t.Namespace], renames[t.Namespace]); err != nil {
			problems = append(problems, strings.TrimPrefix(err.Error(), claimswap.ErrUnswappable.Error()+": ")+".")
		}
	}
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	return []migv1.Condition{conditions.Critical(migv1.WorkloadsCannotSwapPVCs, migv1.NotSupported,
		"The storage conversion could not point these workloads at the copies of their PVCs: "+strings.Join(problems, " ")+
			" Select every PVC of a StatefulSet's claim template, or none, and keep the names the plan proposes.")}
}
