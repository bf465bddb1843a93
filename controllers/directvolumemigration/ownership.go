package directvolumemigration

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// mayWriteInto says whether the DVM may copy into a destination PVC that already exists. rsync
// overwrites the PVC's files and (rsync_opt_delete, on by default) deletes those the source
// does not hold, so only a PVC a migration of the same plan created (a stage after a stage,
// then the cutover: migrated-by-migplan=<plan UID>) or this standalone DVM created
// (migrated-by-directvolumemigration=<DVM UID>) is written into, unless the DVM opts in with
// ReuseExistingDestinationPVCsAnnotation. A PVC of the same name that belongs to someone else
// would otherwise be overwritten silently, and a rollback would not even delete it.
func mayWriteInto(dvm *migv1.DirectVolumeMigration, pvc *corev1.PersistentVolumeClaim) bool {
	if dvm.Annotations[migv1.ReuseExistingDestinationPVCsAnnotation] == "true" {
		return true
	}
	if plan := dvm.Labels[migratedByPlan]; plan != "" && pvc.Labels[migratedByPlan] == plan {
		return true
	}
	return dvm.UID != "" && pvc.Labels[transfer.LabelMigratedByDVM] == string(dvm.UID)
}

// notOwnedCondition is the durable Critical condition of a DVM that refused to write into the
// existing destination PVCs named in keys ("namespace/name").
func notOwnedCondition(keys []string) migv1.Condition {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	c := conditions.Critical(migv1.DestinationPVCsNotOwned, migv1.Conflict, notOwnedMessage(keys))
	c.Durable = true
	return c
}

func notOwnedMessage(keys []string) string {
	return fmt.Sprintf("Destination PVCs already exist and were not created by a migration of this plan (or by this "+
		"DirectVolumeMigration): %s. Copying into them would overwrite their files and delete those the source does not "+
		"hold, so nothing was copied. Delete or rename them, map the PVCs to other names, or set the annotation %s: \"true\" "+
		"on the MigPlan (or on the DirectVolumeMigration) to copy into them anyway.",
		strings.Join(keys, ", "), migv1.ReuseExistingDestinationPVCsAnnotation)
}
