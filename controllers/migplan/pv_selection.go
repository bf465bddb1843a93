package migplan

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// ebsCSIDriver is the AWS EBS CSI driver: its volumes can be moved like in-tree EBS ones.
const ebsCSIDriver = "ebs.csi.aws.com"

// autoAccessMode lets the destination choose the access mode.
const autoAccessMode corev1.PersistentVolumeAccessMode = "auto"

// validAccessModes are the access modes a selection may name.
var validAccessModes = []corev1.PersistentVolumeAccessMode{
	corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod, autoAccessMode,
}

// supportedActions returns what can be done with a PV: always skip; hostPath volumes only
// that; NFS, EBS and volumes of the move storage classes also move; the others copy.
func supportedActions(pv *corev1.PersistentVolume, moveClasses []string) []string {
	if pv.Spec.HostPath != nil {
		return []string{migv1.PvSkipAction}
	}
	class := pvStorageClassName(pv)
	movable := pv.Spec.NFS != nil || pv.Spec.AWSElasticBlockStore != nil ||
		(pv.Spec.CSI != nil && pv.Spec.CSI.Driver == ebsCSIDriver) ||
		(class != "" && slices.Contains(moveClasses, class))
	if movable {
		return []string{migv1.PvSkipAction, migv1.PvCopyAction, migv1.PvMoveAction}
	}
	return []string{migv1.PvSkipAction, migv1.PvCopyAction}
}

// supportedCopyMethods returns the copy methods of a PV: all of them, as in MTC.
func supportedCopyMethods() []string {
	return []string{migv1.PvFilesystemCopyMethod, migv1.PvBlockCopyMethod, migv1.PvSnapshotCopyMethod}
}

// defaultAction is the only supported action, else the only one besides skip, else copy.
func defaultAction(actions []string) string {
	if len(actions) == 1 {
		return actions[0]
	}
	others := slices.DeleteFunc(slices.Clone(actions), func(a string) bool { return a == migv1.PvSkipAction })
	switch {
	case len(others) == 1:
		return others[0]
	case slices.Contains(others, migv1.PvCopyAction):
		return migv1.PvCopyAction
	case len(others) > 0:
		return others[0]
	}
	return ""
}

// defaultSelection is the selection of a newly discovered PV.
func defaultSelection(actions []string, mode corev1.PersistentVolumeMode, destClass string) migv1.Selection {
	method := migv1.PvFilesystemCopyMethod
	if mode == corev1.PersistentVolumeBlock {
		method = migv1.PvBlockCopyMethod
	}
	return migv1.Selection{Action: defaultAction(actions), StorageClass: destClass, CopyMethod: method}
}

// keptSelection is the user's selection of a rediscovered PV, with the action forced when a
// single one is supported.
func keptSelection(sel migv1.Selection, actions []string) migv1.Selection {
	if len(actions) == 1 {
		sel.Action = actions[0]
	}
	return sel
}

// selectionProblems collects, per problem, the names of the PVs that have it.
type selectionProblems struct {
	invalidAction, noAction, invalidClass, invalidMode, noClass []string
	unavailableMode, noCopyMethod, invalidCopyMethod, snapshot  []string
	blockCopy                                                   []string
}

// ValidatePVSelections checks the users' selections against what each PV supports and the
// destination storage classes (MTC §3.6). It returns one condition per problem type, naming
// all the PVs that have it.
func ValidatePVSelections(pvs []migv1.PV, destClasses []migv1.StorageClass) []migv1.Condition {
	var p selectionProblems
	for i := range pvs {
		p.check(&pvs[i], destClasses)
	}
	return p.conditions()
}

func (p *selectionProblems) check(pv *migv1.PV, destClasses []migv1.StorageClass) {
	actions := pv.Supported.Actions
	if len(actions) == 0 {
		p.noAction = append(p.noAction, pv.Name)
		actions = []string{""}
	}
	if !slices.Contains(actions, pv.Selection.Action) {
		p.invalidAction = append(p.invalidAction, pv.Name)
		return
	}
	if pv.Selection.Action != migv1.PvCopyAction {
		return
	}
	p.checkClass(pv, destClasses)
	p.checkCopyMethod(pv)
	if pv.PVC.VolumeMode == corev1.PersistentVolumeBlock || pv.Selection.CopyMethod == migv1.PvBlockCopyMethod {
		p.blockCopy = append(p.blockCopy, pv.Name)
	}
}

func (p *selectionProblems) checkClass(pv *migv1.PV, destClasses []migv1.StorageClass) {
	if pv.Selection.StorageClass == "" {
		p.noClass = append(p.noClass, pv.Name)
		return
	}
	class, ok := findClass(destClasses, pv.Selection.StorageClass)
	if !ok {
		p.invalidClass = append(p.invalidClass, pv.Name)
		return
	}
	wanted := pv.PVC.AccessModes
	if mode := pv.Selection.AccessMode; mode != "" {
		if !slices.Contains(validAccessModes, mode) {
			p.invalidMode = append(p.invalidMode, pv.Name)
			return
		}
		wanted = []corev1.PersistentVolumeAccessMode{mode}
	}
	if !modesOffered(wanted, offeredAccessModes(class, pv.PVC.VolumeMode)) {
		p.unavailableMode = append(p.unavailableMode, pv.Name)
	}
}

// modesOffered reports whether every wanted access mode is offered; auto always is, and
// ReadWriteOncePod is wherever ReadWriteOnce is.
func modesOffered(wanted, offered []corev1.PersistentVolumeAccessMode) bool {
	for _, m := range wanted {
		if m == corev1.ReadWriteOncePod {
			m = corev1.ReadWriteOnce
		}
		if m != autoAccessMode && !slices.Contains(offered, m) {
			return false
		}
	}
	return true
}

func (p *selectionProblems) checkCopyMethod(pv *migv1.PV) {
	switch method := pv.Selection.CopyMethod; {
	case method == "":
		p.noCopyMethod = append(p.noCopyMethod, pv.Name)
	case !slices.Contains(pv.Supported.CopyMethods, method):
		p.invalidCopyMethod = append(p.invalidCopyMethod, pv.Name)
	case method == migv1.PvSnapshotCopyMethod:
		p.snapshot = append(p.snapshot, pv.Name)
	}
}

// selectionCheck describes the condition raised for one kind of selection problem; its
// message has a %s for the bracketed PV names.
type selectionCheck struct {
	names                          []string
	category, kind, reason, format string
}

func (p *selectionProblems) conditions() []migv1.Condition {
	checks := []selectionCheck{
		{p.invalidAction, migv1.CategoryError, migv1.PvInvalidAction, migv1.NotDone,
			"PV in `persistentVolumes` %s has an unsupported `action`."},
		{p.noAction, migv1.CategoryWarn, migv1.PvNoSupportedAction, "",
			"PV in `persistentVolumes` %s with no `SupportedActions`."},
		{p.invalidClass, migv1.CategoryError, migv1.PvInvalidStorageClass, migv1.NotDone,
			"PV in `persistentVolumes` %s has an unsupported `storageClass`."},
		{p.invalidMode, migv1.CategoryError, migv1.PvInvalidAccessMode, "",
			"PV in `persistentVolumes` %s has an invalid `accessMode`."},
		{p.noClass, migv1.CategoryWarn, migv1.PvNoStorageClassSelection, migv1.NotFound,
			"PV in `persistentVolumes` %s has no `Selected.StorageClass`. Make sure that the necessary " +
				"static persistent volumes exist in the destination cluster."},
		{p.unavailableMode, migv1.CategoryWarn, migv1.PvWarnAccessModeUnavailable, "",
			"AccessMode for PVC in `persistentVolumes` %s unavailable in chosen storage class."},
		{p.noCopyMethod, migv1.CategoryError, migv1.PvNoCopyMethodSelection, migv1.NotFound,
			"PV in `persistentVolumes` %s has no `Selected.CopyMethod`."},
		{p.invalidCopyMethod, migv1.CategoryError, migv1.PvInvalidCopyMethod, "",
			"PV in `persistentVolumes` %s has an invalid `copyMethod`."},
		{p.blockCopy, migv1.CategoryError, migv1.PvBlockCopyUnsupported, migv1.NotSupported,
			"PV in `persistentVolumes` %s is a block-mode volume or uses copyMethod `block`, which Ferry cannot " +
				"copy yet (its transfer mounts file systems only): select action `skip` for it, or `move` where its storage allows."},
		{p.snapshot, migv1.CategoryWarn, migv1.PvWarnCopyMethodSnapshot, "",
			"CopyMethod for PV in `persistentVolumes` %s is set to `snapshot`. Make sure that the chosen " +
				"storage class is compatible with the source volume's storage type for Snapshot support."},
	}
	var out []migv1.Condition
	for _, c := range checks {
		if len(c.names) > 0 {
			out = append(out, conditions.New(c.category, c.kind, c.reason, fmt.Sprintf(c.format, nameList(c.names))))
		}
	}
	return out
}

// nameList formats names as MTC expands a condition's items: "[a, b]".
func nameList(names []string) string {
	return "[" + strings.Join(names, ", ") + "]"
}
