package migmigration

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Step messages other than phase descriptions (MTC's words).
const (
	stepNotStarted = "Not started"
	stepCompleted  = "Completed"
	stepFailed     = "Failed"
	stepSkipped    = "Skipped"
)

// runningMessage is the message of the Running condition: the phase's place among the phases
// that apply, as "Step: n/total".
func runningMessage(it Itinerary, f Facts, phase string) string {
	n, total := itinerary.Position(it, f, phase)
	return fmt.Sprintf("Step: %d/%d", n, total)
}

// initPipeline prepares the pipeline for a migration entering itinerary it: one "Not started"
// step for each distinct step of the phases that apply under f, in order. The steps of an
// earlier itinerary stay, as in MTC, so a Failed or Cancel itinerary extends the pipeline of
// the run it ends and users still see where it stopped; a step planned by the earlier
// itinerary but never started moves to the end, where it now runs.
func initPipeline(p []*migv1.Step, it Itinerary, f Facts) []*migv1.Step {
	for _, name := range stepsOf(itinerary.Applicable(it, f)) {
		i := slices.IndexFunc(p, func(s *migv1.Step) bool { return s.Name == name })
		switch {
		case i < 0:
			p = append(p, &migv1.Step{Name: name, Message: stepNotStarted})
		case p[i].Started == nil:
			s := p[i]
			s.Skipped, s.Message = false, stepNotStarted
			p = append(slices.Delete(p, i, i+1), s)
		}
	}
	return p
}

// updatePipeline shows the cursor of itinerary it in the pipeline:
//   - the step of the current phase is started, names the phase and describes it, with detail
//     when the step function gave one (the DVM's own description, for example);
//   - a started step with no phase left to run under f is completed;
//   - a step that never started and has no phase left to run is skipped once a later step
//     runs, or when the itinerary is Completed (which completes every started step);
//   - the message of a finished step says Completed, Failed or Skipped.
//
// Unlike MTC, a step whose phases are split by another step (Rollback's CleanupMigrated) is
// completed only after its last phase, not each time another step starts.
func updatePipeline(p []*migv1.Step, it Itinerary, f Facts, phase, detail string, now metav1.Time) []*migv1.Step {
	current := ""
	ahead := map[string]bool{}
	switch i := it.Index(phase); {
	case i >= 0:
		current = it.Phases[i].Step
		p = ensureStep(p, it, current)
		for _, q := range it.Phases[i+1:] {
			if q.Applies(f) {
				ahead[q.Step] = true
			}
		}
	case phase != itinerary.Completed:
		return p // not started, or unknown: nothing to show
	}
	reached := false
	for _, s := range p {
		switch {
		case s.Name == current:
			reached = true
			startStep(s, phase, detail, now)
		case s.Started != nil:
			if s.Completed == nil && !ahead[s.Name] {
				s.Completed = timePtr(now)
			}
		case !reached && !ahead[s.Name]:
			s.Skipped = true
		}
		reflectStep(s)
	}
	return p
}

// failStep marks the step of phase as failed, as MTC does when a phase fails the migration.
func failStep(p []*migv1.Step, it Itinerary, phase string) []*migv1.Step {
	ph, ok := it.Find(phase)
	if !ok {
		return p
	}
	p = ensureStep(p, it, ph.Step)
	for _, s := range p {
		if s.Name == ph.Step {
			s.Failed = true
			reflectStep(s)
		}
	}
	return p
}

// startStep makes s the running step.
func startStep(s *migv1.Step, phase, detail string, now metav1.Time) {
	if s.Started == nil {
		s.Started = timePtr(now)
	}
	s.Completed, s.Skipped = nil, false
	s.Phase = phase
	s.Message = detail
	if detail == "" {
		s.Message = phaseDescriptions[phase]
	}
}

// reflectStep sets the message of a finished step (MTC's ReflectPipeline).
func reflectStep(s *migv1.Step) {
	switch {
	case s.Failed:
		s.Message = stepFailed
	case s.Skipped:
		s.Message, s.Phase = stepSkipped, ""
	case s.Completed != nil:
		s.Message, s.Phase = stepCompleted, ""
	}
}

// ensureStep adds the step called name to p if it lacks it, before the first step that has not
// started and comes later in it, so that a step whose phases began to apply after the pipeline
// was built still shows in order.
func ensureStep(p []*migv1.Step, it Itinerary, name string) []*migv1.Step {
	if slices.ContainsFunc(p, func(s *migv1.Step) bool { return s.Name == name }) {
		return p
	}
	order := stepsOf(it.Phases)
	rank := slices.Index(order, name)
	at := slices.IndexFunc(p, func(s *migv1.Step) bool {
		r := slices.Index(order, s.Name)
		return s.Started == nil && r > rank
	})
	if at < 0 {
		at = len(p)
	}
	return slices.Insert(p, at, &migv1.Step{Name: name, Message: stepNotStarted})
}

// stepsOf returns the distinct steps of phases in order of first appearance.
func stepsOf(phases []Phase) []string {
	var out []string
	for _, ph := range phases {
		if !slices.Contains(out, ph.Step) {
			out = append(out, ph.Step)
		}
	}
	return out
}

func timePtr(t metav1.Time) *metav1.Time { return &t }

// phaseDescriptions are the messages of a running step, by phase: MTC's words where MTC has
// them (users and its documentation quote them), Ferry's for the phases MTC left undescribed.
var phaseDescriptions = map[string]string{
	phaseStarted:                                        "Migration started.",
	phaseStartRefresh:                                   "Starting refresh on MigPlan, MigStorage and MigCluster resources",
	phaseWaitForRefresh:                                 "Waiting for refresh of MigPlan, MigStorage and MigCluster resources to complete",
	phaseCleanStaleAnnotations:                          "Removing leftover migration annotations and labels from PVs, PVCs, Pods, ImageStreams, and Namespaces. Annotations and labels provide migration instructions to Velero, Velero Plugins and Restic.",
	phaseCleanStaleResticCRs:                            "Deleting incomplete Restic PodVolumeBackups and PodVolumeRestores created by past migration attempts.",
	phaseCleanStaleVeleroCRs:                            "Deleting incomplete Velero Backups and Restores created by past migration attempts.",
	phaseRestartVelero:                                  "Restarting Velero Pods, ensuring work queue is empty.",
	phaseCleanStaleStagePods:                            "Deleting any leftover stage Pods.",
	phaseWaitForStaleStagePodsTerminated:                "Waiting for leftover stage Pod deletion to finish.",
	phaseCreateRegistries:                               "Creating migration registries on source and target clusters.",
	phaseWaitForVeleroReady:                             "Waiting for Velero Pods to restart, ensuring work queue is empty.",
	phaseWaitForRegistriesReady:                         "Waiting for migration registries on source and target clusters to become healthy.",
	phaseEnsureCloudSecretPropagated:                    "Ensuring Velero has latest Replication Repository storage credentials.",
	phasePreBackupHooks:                                 "Waiting for user-defined pre-backup hooks to complete.",
	phaseCreateDirectImageMigration:                     "Creating a DirectImageMigration to copy ImageStreams from registry to registry.",
	phaseEnsureInitialBackup:                            "Creating initial Velero backup.",
	phaseInitialBackupCreated:                           "Waiting for initial Velero backup to complete.",
	phaseQuiesceSourceApplications:                      "Quiescing (Scaling to 0 replicas) source cluster Deployments, DeploymentConfigs, StatefulSets, ReplicaSets, DaemonSets, CronJobs, Jobs and VirtualMachines.",
	phaseEnsureSrcQuiesced:                              "Waiting for Quiesce (Scaling to 0 replicas) to finish for source cluster Deployments, DeploymentConfigs, StatefulSets, ReplicaSets, DaemonSets, CronJobs, Jobs and VirtualMachines.",
	phaseEnsureStagePodsFromRunning:                     "Creating Stage Pods and mounting PVC data from running Pods.",
	phaseEnsureStagePodsFromTemplates:                   "Creating Stage Pods and mounting PVC data using Pod templates from DeploymentTemplates, DeploymentConfigs, ReplicationControllers, DaemonSets, StatefulSets, ReplicaSets, CronJobs and Jobs.",
	phaseEnsureStagePodsFromOrphanedPVCs:                "Creating Stage Pods and mounting PVC data from unmounted PVCs.",
	phaseStagePodsCreated:                               "Waiting for all Stage Pods to start.",
	phaseRestartRestic:                                  "Restarting Restic Pods, ensuring latest PVC mounts are available for PVC backups.",
	phaseAnnotateResources:                              "Adding migration annotations and labels to PVs, PVCs, Pods, ImageStreams, and Namespaces. Annotations and labels provide migration instructions to Velero, Velero Plugins and Restic.",
	phaseWaitForResticReady:                             "Waiting for Restic Pods to restart, ensuring latest PVC mounts are available for PVC backups.",
	phaseCreateDirectVolumeMigrationStage:               "Creating a DirectVolumeMigration to copy PVC data while the applications run.",
	phaseCreateDirectVolumeMigrationFinal:               "Creating a DirectVolumeMigration to copy PVC data from the quiesced applications.",
	phaseCreateDirectVolumeMigrationWarm:                "Creating a DirectVolumeMigration to copy PVC data while the applications still run (warm sync, pass 1).",
	phaseWaitForDirectVolumeMigrationWarmToComplete:     "Copying PVC data while the applications still run, pass after pass while the changes shrink (warm sync).",
	phaseEnsureStageBackup:                              "Creating a stage backup.",
	phaseStageBackupCreated:                             "Waiting for stage backup to complete.",
	phaseEnsureStageBackupReplicated:                    "Waiting for stage Velero backup replication to target cluster.",
	phaseEnsureStageRestore:                             "Creating a stage Velero restore including OpenShift resources and PVCs.",
	phaseStageRestoreCreated:                            "Waiting for stage Velero restore to complete.",
	phaseEnsureStagePodsDeleted:                         "Deleting any leftover stage Pods.",
	phaseEnsureStagePodsTerminated:                      "Waiting for leftover stage Pod deletion to finish.",
	phaseEnsureAnnotationsDeleted:                       "Removing migration annotations and labels from PVs, PVCs, Pods, ImageStreams, and Namespaces. Annotations and labels provide migration instructions to Velero, Velero Plugins and Restic.",
	phaseWaitForDirectImageMigrationToComplete:          "Waiting for the DirectImageMigration to complete.",
	phaseWaitForDirectVolumeMigrationToComplete:         "Waiting for the DirectVolumeMigration to complete.",
	phasePostBackupHooks:                                "Waiting for user-defined post-backup hooks to complete.",
	phasePreRestoreHooks:                                "Waiting for user-defined pre-restore hooks to complete.",
	phaseEnsureInitialBackupReplicated:                  "Waiting for initial Velero backup replication to target cluster.",
	phaseEnsureFinalRestore:                             "Creating final Velero restore.",
	phaseFinalRestoreCreated:                            "Waiting for final Velero restore to complete.",
	phaseUnQuiesceDestApplications:                      "UnQuiescing (Scaling to N replicas) target cluster Deployments, DeploymentConfigs, StatefulSets, ReplicaSets, DaemonSets, CronJobs, Jobs and VirtualMachines.",
	phasePostRestoreHooks:                               "Waiting for user-defined post-restore hooks to complete.",
	phaseSwapPVCReferences:                              "Pointing workloads at the converted PVCs.",
	phaseDeleteRegistries:                               "Deleting migration registries on source and target clusters.",
	phaseVerification:                                   "Verifying health of migrated Pods.",
	phaseCanceling:                                      "Migration cancellation in progress.",
	phaseDeleteBackups:                                  "Deleting Velero Backups created during migration.",
	phaseDeleteRestores:                                 "Deleting Velero Restores created during migration.",
	phaseDeleteHookJobs:                                 "Deleting user-defined hook Jobs and Pods created during migration.",
	phaseDeleteDirectVolumeMigrationResources:           "Deleting the DirectVolumeMigration and the resources it created.",
	phaseDeleteDirectImageMigrationResources:            "Deleting the DirectImageMigration and the resources it created.",
	phaseUnQuiesceSrcApplications:                       "UnQuiescing (Scaling to N replicas) source cluster Deployments, DeploymentConfigs, StatefulSets, ReplicaSets, DaemonSets, CronJobs, Jobs and VirtualMachines.",
	phaseCanceled:                                       "Migration canceled.",
	phaseMigrationFailed:                                "Migration failed.",
	phaseRollback:                                       "Starting rollback",
	phaseQuiesceDestinationApplications:                 "Quiescing (Scaling to 0 replicas) target cluster Deployments, DeploymentConfigs, StatefulSets, ReplicaSets, DaemonSets, CronJobs, Jobs and VirtualMachines.",
	phaseEnsureDestQuiesced:                             "Waiting for Quiesce (Scaling to 0 replicas) to finish for target cluster Deployments, DeploymentConfigs, StatefulSets, ReplicaSets, DaemonSets, CronJobs, Jobs and VirtualMachines.",
	phaseCreateDirectVolumeMigrationRollback:            "Creating a DirectVolumeMigration to move live-migrated VirtualMachine storage back.",
	phaseWaitForDirectVolumeMigrationToRollbackComplete: "Waiting for the rollback DirectVolumeMigration to complete.",
	phaseDeleteMigrated:                                 "Rolling back. Deleting migrated resources from target cluster.",
	phaseEnsureMigratedDeleted:                          "Rolling back. Waiting for migrated resource deletion.",
}
