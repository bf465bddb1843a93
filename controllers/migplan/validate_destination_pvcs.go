package migplan

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// migratedByPlanLabel is MTC's label on what a migration of a plan created on the destination,
// the destination PVCs of its DirectVolumeMigrations included.
const migratedByPlanLabel = "migration.openshift.io/migrated-by-migplan"

// existingDestinationPVCs warns about destination PVCs that rsync would copy into although no
// migration of the plan created them: a PVC of the same name that belongs to someone else. The
// migration's DirectVolumeMigration refuses them (it would overwrite their files and delete
// what the source does not hold) unless the plan opts in with
// ReuseExistingDestinationPVCsAnnotation; the warning says so before anything runs.
func existingDestinationPVCs(plan *migv1.MigPlan, pvs []migv1.PV, destPVCs []corev1.PersistentVolumeClaim) []migv1.Condition {
	if plan.Spec.IndirectVolumeMigration {
		return nil
	}
	existing := map[string]*corev1.PersistentVolumeClaim{}
	for i := range destPVCs {
		existing[destPVCs[i].Namespace+"/"+destPVCs[i].Name] = &destPVCs[i]
	}
	byName, _ := mapping.Namespaces(plan)
	var foreign []string
	for _, pv := range pvs {
		method := pv.Selection.CopyMethod
		if pv.Selection.Action != migv1.PvCopyAction || (method != migv1.PvFilesystemCopyMethod && method != migv1.PvBlockCopyMethod) {
			continue
		}
		_, dest, err := mapping.Parse(pv.PVC.Name)
		destNS, ok := byName[pv.PVC.Namespace]
		if err != nil || !ok {
			continue
		}
		key := destNS + "/" + dest
		if pvc := existing[key]; pvc != nil && (plan.UID == "" || pvc.Labels[migratedByPlanLabel] != string(plan.UID)) {
			foreign = append(foreign, key)
		}
	}
	if len(foreign) == 0 {
		return nil
	}
	slices.Sort(foreign)
	foreign = slices.Compact(foreign)
	msg := fmt.Sprintf("Destination PVCs already exist and no migration of this plan created them: %s. A migration refuses to copy "+
		"into them (rsync would overwrite their files and delete those the source does not hold) unless the annotation %s: \"true\" "+
		"is set on the MigPlan.", strings.Join(foreign, ", "), migv1.ReuseExistingDestinationPVCsAnnotation)
	if plan.Annotations[migv1.ReuseExistingDestinationPVCsAnnotation] == "true" {
		msg = fmt.Sprintf("Destination PVCs already exist and no migration of this plan created them: %s. The annotation %s asks to "+
			"copy into them: their files will be overwritten, and those the source does not hold deleted.",
			strings.Join(foreign, ", "), migv1.ReuseExistingDestinationPVCsAnnotation)
	}
	return []migv1.Condition{conditions.Warn(migv1.DestinationPVCsExist, migv1.Conflict, msg)}
}
