package migstorage

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/objectstore"
	"github.com/ferrymtc/ferry/pkg/secretref"
)

// scope is what one reconcile observed about a MigStorage. The backup storage and the volume
// snapshot provider are checked independently, each stopping at its first failure.
type scope struct {
	storage *migv1.MigStorage
	// failures holds the condition of the first failing check of each side.
	failures []migv1.Condition
	// untested names the backup provider whose bucket could not be tested here, if any.
	untested string
}

// side is the condition types and fields of one use of the storage (backup or snapshots).
type side struct {
	invalidProvider, invalidSecretRef, invalidSettings string
	// providerField and secretRefField name the fields in condition messages.
	providerField, secretRefField, settingsField string
}

var (
	backupSide = side{
		invalidProvider: migv1.InvalidBackupStorageProvider, invalidSecretRef: migv1.InvalidBackupStorageCredsSecretRef,
		invalidSettings: migv1.InvalidBackupStorageSettings, providerField: "spec.backupStorageProvider",
		secretRefField: "spec.backupStorageConfig.credsSecretRef", settingsField: "spec.backupStorageConfig",
	}
	snapshotSide = side{
		invalidProvider: migv1.InvalidVolumeSnapshotProvider, invalidSecretRef: migv1.InvalidVolumeSnapshotCredsSecretRef,
		invalidSettings: migv1.InvalidVolumeSnapshotSettings, providerField: "spec.volumeSnapshotProvider",
		secretRefField: "spec.volumeSnapshotConfig.credsSecretRef", settingsField: "spec.volumeSnapshotConfig",
	}
)

// runChecks checks the backup storage and, when volumeSnapshotProvider is set (as in MTC),
// the snapshot provider. It returns an error only for problems of the operator itself.
func (r *Reconciler) runChecks(ctx context.Context, s *scope) error {
	spec := &s.storage.Spec
	if err := r.checkBackup(ctx, s, spec); err != nil {
		return err
	}
	if spec.VolumeSnapshotProvider == "" {
		return nil
	}
	creds, ok, err := r.checkCommon(ctx, s, snapshotSide, spec.VolumeSnapshotProvider, spec.VolumeSnapshotConfig.CredsSecretRef)
	if err != nil || !ok {
		return err
	}
	// Snapshot providers have no live test, as in MTC: validation is all there is.
	if problems := objectstore.ValidateVolumeSnapshot(spec.VolumeSnapshotProvider, &spec.VolumeSnapshotConfig, creds); len(problems) > 0 {
		s.fail(invalidSettings(snapshotSide, problems))
	}
	return nil
}

func (r *Reconciler) checkBackup(ctx context.Context, s *scope, spec *migv1.MigStorageSpec) error {
	provider, cfg := spec.BackupStorageProvider, &spec.BackupStorageConfig
	creds, ok, err := r.checkCommon(ctx, s, backupSide, provider, cfg.CredsSecretRef)
	if err != nil || !ok {
		return err
	}
	if problems := objectstore.ValidateBackupStorage(provider, cfg, creds); len(problems) > 0 {
		s.fail(invalidSettings(backupSide, problems))
		return nil
	}
	err = r.Tester.TestBucket(ctx, provider, cfg, creds)
	switch {
	case err == nil:
	case errors.Is(err, objectstore.ErrLiveTestNotSupported):
		s.untested = provider
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("test backup storage: %w", err)
	default:
		s.fail(testFailed(err))
	}
	return nil
}

// checkCommon checks the provider and the credentials Secret of one side and returns the
// Secret's data; ok is false when a check failed.
func (r *Reconciler) checkCommon(ctx context.Context, s *scope, sd side, provider string, ref *corev1.ObjectReference) (creds map[string][]byte, ok bool, err error) {
	if provider == "" || !objectstore.IsSupported(provider) {
		s.fail(invalidProvider(sd, provider))
		return nil, false, nil
	}
	key, set, err := secretref.Key(ref, s.storage.Namespace)
	switch {
	case !set:
		s.fail(secretRefNotSet(sd))
		return nil, false, nil
	case err != nil:
		s.fail(secretNotAllowed(sd, err))
		return nil, false, nil
	}
	creds, found, err := r.readSecret(ctx, key)
	if err != nil {
		return nil, false, err
	}
	if !found {
		s.fail(secretNotFound(sd, key.String()))
		return nil, false, nil
	}
	return creds, true, nil
}

func (s *scope) fail(c migv1.Condition) {
	s.failures = append(s.failures, c)
}

// logFailures records at debug level why the storage is not Ready (never the credentials).
func logFailures(ctx context.Context, s *scope) {
	for _, c := range s.failures {
		ctrl.LoggerFrom(ctx).V(1).Info("MigStorage check failed", "condition", c.Type, "reason", c.Reason)
	}
}
