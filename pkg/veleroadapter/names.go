package veleroadapter

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vmware-tanzu/velero/pkg/label"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// Labels and annotations of MTC's contract on Velero Backups and Restores (mtc-behavior.md
// §10.1, §10.2 and Appendix A). The openshift-velero-plugin reads several of them, so their
// keys and values are API.
const (
	// PartOfLabel with value PartOfValue marks every object MTC creates; on a Backup or
	// Restore it tells the plugin "this is a migration" rather than a plain backup.
	PartOfLabel = "app.kubernetes.io/part-of"
	PartOfValue = "openshift-migration"
	// MigMigrationCorrelationLabel holds the migration's UID (MTC's correlation label
	// "<lowercase kind>=<uid>").
	MigMigrationCorrelationLabel = "migmigration"
	// InitialBackupLabel, StageBackupLabel, StageRestoreLabel and FinalRestoreLabel hold the
	// migration's UID and tell its four Velero objects apart.
	InitialBackupLabel = "migration-initial-backup"
	StageBackupLabel   = "migration-stage-backup"
	StageRestoreLabel  = "migration-stage-restore"
	FinalRestoreLabel  = "migration-final-restore"
	// MigratedByMigMigrationLabel and MigratedByMigPlanLabel hold the migration's and the
	// plan's UIDs. The plugin copies them from a Restore onto every restored object, and
	// rollback deletes by the plan label.
	MigratedByMigMigrationLabel = "migration.openshift.io/migrated-by-migmigration"
	MigratedByMigPlanLabel      = "migration.openshift.io/migrated-by-migplan"
	// IncludedInStageBackupLabel, with the migration's UID as value, selects the objects of
	// the stage backup.
	IncludedInStageBackupLabel = "migration-included-stage-backup"

	// MigrationTypeAnnotation is "stage" or "final".
	MigrationTypeAnnotation = "migration.openshift.io/migmigration-type"
	// QuiescePodsAnnotation is "true" on the stage Backup and the Restores of a migration
	// that quiesces pods.
	QuiescePodsAnnotation = "openshift.io/migrate-quiesce-pods"
	// StagePodImageAnnotation, on a stage Restore, is the image the plugin gives restored
	// stage pods on the destination.
	StagePodImageAnnotation = "migration.openshift.io/stage-pod-image"
)

// Values of MigrationTypeAnnotation.
const (
	migrationTypeStage = "stage"
	migrationTypeFinal = "final"
)

// Migration identifies the MigMigration and plan a Velero object belongs to.
type Migration struct {
	Name, UID         string // MigMigration
	PlanName, PlanUID string // MigPlan
	// Stage sets the annotation migration.openshift.io/migmigration-type=stage (else final).
	Stage bool
	// QuiescePods sets openshift.io/migrate-quiesce-pods=true on every object but the
	// initial backup (MTC rule: the initial backup runs before the quiesce).
	QuiescePods bool
}

// Role of a Velero object in a migration. Its value is part of the object's name.
type Role string

// The four Velero objects of a migration.
const (
	InitialBackup Role = "initial"
	StageBackup   Role = "stage"
	StageRestore  Role = "stage-restore"
	FinalRestore  Role = "final"
)

// hashLen is how many hex digits of the UID's SHA-256 a name ends with: 40 bits, so two
// migrations with the same (truncated) name collide with odds of about 1 in 10^12.
const hashLen = 10

// Name is the deterministic name of the migration's Velero object with this role:
// "<migration name, truncated>-<role>-<10 hex digits of SHA-256(migration UID)>". It is at most
// 63 characters and a valid DNS-1123 label, because Velero puts backup and restore names in
// label values (velero.io/backup-name, velero.io/restore-name) and hashes longer names
// (label.GetValidName), after which the label no longer equals the name. Deterministic, so a
// controller that crashed after creating the object finds it again by name.
func Name(m Migration, role Role) string {
	seed := m.UID
	if seed == "" {
		seed = m.Name // a UID is always set on a stored object; this only keeps Name total.
	}
	sum := sha256.Sum256([]byte(seed))
	suffix := "-" + string(role) + "-" + hex.EncodeToString(sum[:])[:hashLen]

	prefix := sanitize(m.Name)
	if limit := validation.DNS1123LabelMaxLength - len(suffix); len(prefix) > limit {
		prefix = strings.TrimRight(prefix[:limit], "-")
	}
	if prefix == "" {
		return strings.TrimPrefix(suffix, "-")
	}
	return prefix + suffix
}

// sanitize turns an object name (a DNS-1123 subdomain, which may hold dots) into the start
// of a DNS-1123 label: lower case, dots and other characters become '-', no leading or
// trailing '-'.
func sanitize(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b), "-")
}

// migrationLabels are the labels every Velero object of the migration carries: the
// correlation labels, the role label and MTC's debug and rollback labels.
func migrationLabels(m Migration, role Role) map[string]string {
	// Object names may be longer than the 63 characters of a label value: Velero's own
	// GetValidName keeps short ones and truncates long ones with a hash.
	return map[string]string{
		PartOfLabel:                  PartOfValue,
		MigMigrationCorrelationLabel: m.UID,
		roleLabel(role):              m.UID,
		migv1.MigMigrationNameLabel:  label.GetValidName(m.Name),
		migv1.MigPlanNameLabel:       label.GetValidName(m.PlanName),
		MigratedByMigMigrationLabel:  m.UID,
		MigratedByMigPlanLabel:       m.PlanUID,
	}
}

// roleLabel is the label that holds the migration UID on the object with this role.
func roleLabel(role Role) string {
	switch role {
	case InitialBackup:
		return InitialBackupLabel
	case StageBackup:
		return StageBackupLabel
	case StageRestore:
		return StageRestoreLabel
	default:
		return FinalRestoreLabel
	}
}

// migrationAnnotations are MTC's annotations of the migration's object with this role.
func migrationAnnotations(m Migration, role Role) map[string]string {
	a := map[string]string{MigrationTypeAnnotation: migrationTypeFinal}
	if m.Stage {
		a[MigrationTypeAnnotation] = migrationTypeStage
	}
	if m.QuiescePods && role != InitialBackup {
		a[QuiescePodsAnnotation] = "true"
	}
	return a
}

// PlanSelector selects the Velero Backups and Restores of every migration of a plan (cancel,
// rollback). MTC listed them by the plan's correlation label migplan=<uid>, which its Backups
// and Restores never carried; the plan label they do carry is
// migration.openshift.io/migrated-by-migplan.
func PlanSelector(planUID string) client.MatchingLabels {
	return client.MatchingLabels{PartOfLabel: PartOfValue, MigratedByMigPlanLabel: planUID}
}

// MigrationSelector selects the Velero Backups and Restores of one migration (MTC's
// correlation labels of the MigMigration).
func MigrationSelector(migrationUID string) client.MatchingLabels {
	return client.MatchingLabels{PartOfLabel: PartOfValue, MigMigrationCorrelationLabel: migrationUID}
}
