package migmigration

import (
	"slices"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// factsInput is what the facts are computed from, gathered by the controller.
type factsInput struct {
	migration *migv1.MigMigration
	plan      *migv1.MigPlan
	src, dest *migv1.MigCluster
	settings  settings.Settings
	// hasImageStreams: the source namespaces hold ImageStreams (false where the API is absent).
	hasImageStreams bool
}

// computeFacts derives the itineraries' facts (MTC's phase flags, see Facts).
func computeFacts(in factsInput) Facts {
	m, plan := in.migration, in.plan
	f := Facts{
		Stage:           m.Spec.Stage || m.Spec.MigrateState,
		Rollback:        m.Spec.Rollback,
		Quiesce:         m.Spec.QuiescePods,
		HasVerify:       m.Spec.Verify,
		IndirectVolume:  plan.Spec.IndirectVolumeMigration,
		IndirectImage:   plan.Spec.IndirectImageMigration,
		DirectImage:     !plan.Spec.IndirectImageMigration,
		HasISs:          in.hasImageStreams,
		EnableVolume:    !slices.Contains(in.settings.ExcludedResources, "persistentvolumes"),
		LiveVMMigration: plan.Spec.LiveMigrate != nil && *plan.Spec.LiveMigrate,
		WarmSync:        in.settings.EnableWarmSync,
	}
	moveOrSnapshot := false
	for _, pv := range plan.Spec.PersistentVolumes {
		action := pv.Selection.Action
		if action == migv1.PvSkipAction {
			continue
		}
		f.HasPVs = true
		if action == migv1.PvMoveAction || pv.Selection.CopyMethod == migv1.PvSnapshotCopyMethod {
			moveOrSnapshot = true
		}
		if action == migv1.PvCopyAction && !plan.Spec.IndirectVolumeMigration && directCopy(pv.Selection.CopyMethod) {
			f.DirectVolume = true
		}
	}
	for _, h := range plan.Spec.Hooks {
		switch h.Phase {
		case migv1.HookPhasePreBackup:
			f.HasPreBackupHooks = true
		case migv1.HookPhasePostBackup:
			f.HasPostBackupHooks = true
		case migv1.HookPhasePreRestore:
			f.HasPreRestoreHooks = true
		case migv1.HookPhasePostRestore:
			f.HasPostRestoreHooks = true
		}
	}
	intra := mapping.IntraCluster(in.src, in.dest)
	f.StorageConversion = intra && (m.Spec.MigrateState || m.Spec.Rollback) && mapsToItself(plan)
	f.EnableImage = !slices.Contains(in.settings.ExcludedResources, "imagestreams") &&
		!in.settings.DisableImageCopy && !m.Spec.MigrateState && !intra &&
		!stateOrStoragePlan(plan)
	f.HasStageBackup = !f.StorageConversion &&
		((f.HasISs && f.IndirectImage) || (f.HasPVs && f.IndirectVolume) || moveOrSnapshot)
	f.HasStagePods = (f.HasPVs && f.IndirectVolume) || conditions.Find(m.Status.Conditions, migv1.StagePodsCreated) != nil
	f.DestUnquiesced = conditions.Find(m.Status.Conditions, migv1.DestinationApplicationsStarted) != nil ||
		((m.Status.Itinerary == FinalItinerary || m.Status.Itinerary == StageItinerary) && stepDone(m.Status.Pipeline, stepRestore))
	return f
}

// planType is the plan's type: the reason of its MigrationTypeIdentified condition, "" before
// the plan controller identified it.
func planType(plan *migv1.MigPlan) string {
	if c := conditions.Find(plan.Status.Conditions, migv1.MigrationTypeIdentified); c != nil {
		return c.Reason
	}
	return ""
}

// stateOrStoragePlan says whether the plan was identified as a state migration or a storage
// conversion.
func stateOrStoragePlan(plan *migv1.MigPlan) bool {
	t := planType(plan)
	return t == migv1.StateMigrationPlan || t == migv1.StorageConversionPlan
}

// storageConversionPlan says whether the plan was identified as a storage conversion, which
// needs no MigStorage: its volumes are copied within the cluster, never through Velero.
func storageConversionPlan(plan *migv1.MigPlan) bool {
	return planType(plan) == migv1.StorageConversionPlan
}

// directCopy says whether a copy method goes through rsync (a DirectVolumeMigration).
func directCopy(method string) bool {
	return method == migv1.PvFilesystemCopyMethod || method == migv1.PvBlockCopyMethod
}

// mapsToItself says whether every namespace of the plan keeps its name.
func mapsToItself(plan *migv1.MigPlan) bool {
	return len(mapping.Renamed(plan)) == 0
}

// stepDone says whether the pipeline's step called name has completed.
func stepDone(p []*migv1.Step, name string) bool {
	for _, s := range p {
		if s.Name == name && s.Completed != nil && !s.Failed {
			return true
		}
	}
	return false
}
