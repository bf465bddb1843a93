package transfer

import (
	"crypto/md5" //nolint:gosec // MTC's label values and module names are MD5 digests of names, not security.
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Labels of the transfer resources (MTC's names, so NetworkPolicies written for MTC admit
// Ferry's pods and MTC's tooling finds them).
const (
	// LabelApp is "app".
	LabelApp = "app"
	// AppTransfer is the value of "app" on every filesystem transfer resource.
	AppTransfer = "directvolumemigration-rsync-transfer"
	// LabelOwner is "owner"; its value is OwnerDVM.
	LabelOwner = "owner"
	// OwnerDVM is the value of "owner" on transfer resources.
	OwnerDVM = "directvolumemigration"
	// LabelDVM carries the UID of the DirectVolumeMigration that created the resource.
	LabelDVM = "directvolumemigration"
	// AnnotationPVC names, on a DirectVolumeMigrationProgress, the claim ("namespace/name")
	// whose copy it follows (its name is a hash of it).
	AnnotationPVC = "migration.openshift.io/pvc"
	// LabelPartOf is app.kubernetes.io/part-of; its value is PartOf.
	LabelPartOf = "app.kubernetes.io/part-of"
	// PartOf is the value of LabelPartOf.
	PartOf = "openshift-migration"
	// LabelPurpose is "purpose"; rsync servers and their endpoints have "rsync".
	LabelPurpose = "purpose"
	// LabelCreatedForPVC is md5 of the source PVC name, on client pods.
	LabelCreatedForPVC = "migration.openshift.io/created-for-pvc"
	// LabelAttempt is the attempt number of a client pod.
	LabelAttempt = "migration.openshift.io/rsync-attempt"
	// LabelMigratedByDVM is on destination PVCs of a standalone DVM.
	LabelMigratedByDVM = "migration.openshift.io/migrated-by-directvolumemigration"
)

// Labels returns the labels of every transfer resource of the DVM with the given UID.
func Labels(dvmUID string) map[string]string {
	return map[string]string{
		LabelApp: AppTransfer, LabelOwner: OwnerDVM, LabelDVM: dvmUID, LabelPartOf: PartOf,
	}
}

// Selector selects every transfer resource of the DVM with the given UID.
func Selector(dvmUID string) map[string]string {
	return map[string]string{LabelApp: AppTransfer, LabelDVM: dvmUID}
}

// MD5 returns the hex MD5 digest of s, MTC's way of turning a PVC name into a label value.
func MD5(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // See the import.
	return hex.EncodeToString(sum[:])
}

// Names are the deterministic names of one DVM's transfer resources. They derive from the
// DVM's UID alone, so a reconcile that crashed half-way finds what it created, and two DVMs
// writing to the same namespace never collide.
type Names struct {
	id string
}

// idLength is the length of the DVM's id in the names.
const idLength = 10

// NamesFor returns the names of the DVM with the given UID.
func NamesFor(dvmUID string) Names {
	sum := sha256.Sum256([]byte(dvmUID))
	return Names{id: hex.EncodeToString(sum[:])[:idLength]}
}

// Credentials is the host Secret holding the migration's CA, certificates and password.
func (n Names) Credentials() string { return "ferry-transfer-" + n.id }

// Server is the rsync server pod, its Service, ConfigMap and Secret in a destination namespace.
func (n Names) Server() string { return "ferry-rsync-server-" + n.id }

// Client is the ConfigMap and Secret of the rsync clients in a source namespace.
func (n Names) Client() string { return "ferry-rsync-client-" + n.id }

// ClientPod is the rsync client pod of attempt for the source PVC pvc.
func (n Names) ClientPod(pvc string, attempt int) string {
	return "ferry-rsync-" + n.id + "-" + MD5(pvc)[:10] + "-" + strconv.Itoa(attempt)
}

// ProgressName is the name of the DirectVolumeMigrationProgress of a PVC, as MTC names it:
// md5(dvmName + pvcName + srcNamespace).
func ProgressName(dvmName, pvc, namespace string) string { return MD5(dvmName + pvc + namespace) }

// Module is the rsync module of a destination PVC.
func Module(destPVC string) string { return MD5(destPVC) }
