package migmigration

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// Messages of the validation conditions (MTC's words where MTC has them).
const (
	readyMessage         = "The migration is ready."
	planRefNotSetMessage = "The `migPlanRef` must reference a valid `migplan`."
	oneModeMessage       = "Only one of the stage/migrateState/rollback options can be set at a time."
	pvcRenameMessage     = "One or more source PVCs are mapped to different destination PVCs. Stage/Final migrations are not possible. Please remove PVC mappings."
	intraConflictMessage = "This migration plan migrates resources within the same cluster and it has conflicts in source and destination namespace mappings. Stage/Final are not possible with this migration plan."
	notSupportedPrefix   = "Not supported by this Ferry release: "
)

// validate computes the migration's validation conditions from what was observed. facts is
// nil when there is no plan to compute them from.
//
// The plan and the options are judged before the migration starts. Once it has started, a
// block would freeze it half-way, possibly with the source quiesced, and keep even Cancel and
// the Failed itinerary from starting the applications again: what the plan says now (NotReady
// because a cluster flaps, a new conflicting plan, closed, an ImageStream that appeared, a
// final migration) no longer blocks it. Only what makes every step impossible is reported: the
// plan, one of its clusters or its storage gone. A cluster that cannot be reached fails the
// steps that use it, which are retried with backoff; a closed or deleted plan cancels the
// migration (see cancelCause).
func validate(o *observed, facts *Facts) []migv1.Condition {
	m := o.migration
	key, ok := planKey(m)
	switch {
	case !ok:
		return []migv1.Condition{conditions.Critical(migv1.InvalidPlanRef, migv1.NotSet, planRefNotSetMessage)}
	case o.plan == nil:
		return []migv1.Condition{conditions.Critical(migv1.InvalidPlanRef, migv1.NotFound,
			fmt.Sprintf("The `migPlanRef` must reference a valid `migplan`, subject: %s.", key))}
	case m.Status.Phase != "":
		return referencesGone(o, key.String())
	}
	var out []migv1.Condition
	switch {
	case o.plan.Spec.Closed:
		out = append(out, conditions.Critical(migv1.PlanClosed, "",
			fmt.Sprintf("The associated migration plan is closed, subject: %s.", key)))
	case !conditions.IsTrue(o.plan.Status.Conditions, migv1.Ready):
		out = append(out, conditions.Critical(migv1.PlanNotReady, "",
			fmt.Sprintf("The referenced `migPlanRef` does not have a `Ready` condition, subject: %s.", key)))
	}
	var problems []string
	problems = append(problems, specProblems(o)...)
	if facts != nil {
		problems = append(problems, unsupported(*facts)...)
	}
	if len(problems) > 0 {
		out = append(out, conditions.Critical(migv1.InvalidSpec, migv1.NotSupported, strings.Join(problems, " ")))
	}
	if conflict := conflictingPVCMappings(o); conflict != "" {
		out = append(out, conditions.Critical(migv1.ConflictingPVCMappings, migv1.PvNameConflict, conflict))
	}
	if other := finalMigration(m, o.siblings, facts != nil && facts.StorageConversion); other != "" {
		out = append(out, conditions.Critical(migv1.HasFinalMigration, "",
			fmt.Sprintf("The associated MigPlan already has a final migration, subject: %s/%s.", m.Namespace, other)))
	}
	return out
}

// referencesGone reports the clusters or storage of a started migration's plan that no longer
// exist: without them no step can run.
func referencesGone(o *observed, plan string) []migv1.Condition {
	var gone []string
	if o.src == nil {
		gone = append(gone, "source cluster")
	}
	if o.dest == nil {
		gone = append(gone, "destination cluster")
	}
	if o.storage == nil && !storageConversionPlan(o.plan) {
		gone = append(gone, "storage")
	}
	if len(gone) == 0 {
		return nil
	}
	return []migv1.Condition{conditions.Critical(migv1.PlanNotReady, migv1.NotFound,
		fmt.Sprintf("The plan %s lost its %s: the migration cannot continue.", plan, strings.Join(gone, ", ")))}
}

// specProblems reports migration options that cannot work with the plan.
func specProblems(o *observed) []string {
	m, plan := o.migration, o.plan
	var out []string
	modes := 0
	for _, set := range []bool{m.Spec.Stage, m.Spec.MigrateState, m.Spec.Rollback} {
		if set {
			modes++
		}
	}
	if modes > 1 {
		out = append(out, oneModeMessage)
	}
	for _, pv := range plan.Spec.PersistentVolumes {
		if pv.Selection.Action == migv1.PvCopyAction && pv.Selection.CopyMethod == migv1.PvSnapshotCopyMethod {
			out = append(out, notSupportedPrefix+"PVs with copyMethod snapshot (PV "+pv.Name+"): copying a volume through a snapshot "+
				"needs a snapshot copy of the storage between the clusters (Velero's volume snapshot locations or CSI snapshot data "+
				"movement), which Ferry does not drive yet. Set copyMethod to filesystem: the volume is then copied with rsync, or "+
				"through the replication repository with indirectVolumeMigration.")
			break
		}
	}
	if m.Spec.MigrateState || m.Spec.Rollback {
		return out
	}
	for _, pv := range plan.Spec.PersistentVolumes {
		src, dest, err := mapping.Parse(pv.PVC.Name)
		if err == nil && src != dest && pv.Selection.Action != migv1.PvSkipAction {
			out = append(out, pvcRenameMessage)
			break
		}
	}
	if mapping.IntraCluster(o.src, o.dest) {
		byName, sources := mapping.Namespaces(plan)
		for _, dest := range byName {
			if slices.Contains(sources, dest) {
				out = append(out, intraConflictMessage)
				break
			}
		}
	}
	return out
}

// conflictingPVCMappings reports, within one cluster, PVCs mapped onto PVCs the plan copies
// from, or two PVCs mapped onto one (MTC's ConflictingPVCMappings): a copy would overwrite
// data the migration reads.
func conflictingPVCMappings(o *observed) string {
	if !mapping.IntraCluster(o.src, o.dest) {
		return ""
	}
	byName, _ := mapping.Namespaces(o.plan)
	sources, dests := map[string]bool{}, map[string]bool{}
	var conflicts []string
	for _, pv := range o.plan.Spec.PersistentVolumes {
		if pv.Selection.Action == migv1.PvSkipAction {
			continue
		}
		if src, _, err := mapping.Parse(pv.PVC.Name); err == nil {
			sources[pv.PVC.Namespace+"/"+src] = true
		}
	}
	for _, pv := range o.plan.Spec.PersistentVolumes {
		src, dest, err := mapping.Parse(pv.PVC.Name)
		if err != nil || pv.Selection.Action == migv1.PvSkipAction {
			continue
		}
		key := cmp.Or(byName[pv.PVC.Namespace], pv.PVC.Namespace) + "/" + dest
		if sources[key] || dests[key] {
			conflicts = append(conflicts, pv.PVC.Namespace+"/"+src)
		}
		dests[key] = true
	}
	if len(conflicts) == 0 {
		return ""
	}
	slices.Sort(conflicts)
	return fmt.Sprintf("Source PVCs [%s] are mapped to destination PVCs which result in conflicts. "+
		"Please ensure that each source PVC is mapped to a distinct destination PVC in the Migration Plan.", strings.Join(conflicts, ", "))
}

// unsupported reports what the plan needs that this release cannot do yet, so the migration
// stops before it touches anything rather than fail half-way.
func unsupported(f Facts) []string {
	var out []string
	add := func(what string) { out = append(out, notSupportedPrefix+what) }
	if viaRegistries(f) {
		add("indirect image migration (migration registries on the replication repository); set spec.indirectImageMigration " +
			"to false on the MigPlan: Ferry copies images registry to registry, without a copy in the repository.")
	}
	if f.LiveVMMigration {
		add("live migration of VirtualMachine storage.")
	}
	return out
}

// finalMigration returns the name of another migration of the plan that makes m pointless:
// for a stage migration, a final migration that ran (running, succeeded or failed); for a
// final migration, a final migration that succeeded. A newer successful rollback resets the
// plan. Rollbacks are never blocked. In a storage conversion, a quiesced state migration is
// the final one: it points the workloads at the new PVCs, and converting again would copy the
// old PVCs over the ones the workloads now write to.
func finalMigration(m *migv1.MigMigration, siblings []migv1.MigMigration, conversion bool) string {
	if m.Spec.Rollback {
		return ""
	}
	var resetAt *migv1.MigMigration
	for i := range siblings {
		s := &siblings[i]
		if s.Spec.Rollback && conditions.IsTrue(s.Status.Conditions, migv1.Succeeded) &&
			(resetAt == nil || s.CreationTimestamp.After(resetAt.CreationTimestamp.Time)) {
			resetAt = s
		}
	}
	stage := m.Spec.Stage || m.Spec.MigrateState
	for i := range siblings {
		s := &siblings[i]
		isFinal := !s.Spec.Stage && !s.Spec.MigrateState && !s.Spec.Rollback && !s.Spec.Canceled ||
			conversion && s.Spec.MigrateState && s.Spec.QuiescePods && !s.Spec.Canceled
		if s.UID == m.UID || !isFinal || (resetAt != nil && !s.CreationTimestamp.After(resetAt.CreationTimestamp.Time)) {
			continue
		}
		c := s.Status.Conditions
		succeeded := conditions.IsTrue(c, migv1.Succeeded) || conditions.IsTrue(c, migv1.SucceededWithWarnings)
		ran := succeeded || conditions.IsTrue(c, migv1.Running) || conditions.IsTrue(c, migv1.Failed)
		if (stage && ran) || (!stage && succeeded) {
			return s.Name
		}
	}
	return ""
}

// ahead returns the migration of the plan that must finish before m starts, or "": one that
// runs (whatever its age), else the oldest unfinished one created before m. Migrations of a
// plan run one at a time in creation order; one that cannot start (it carries a blocking
// condition and never ran) is not waited for, so a newer one may start first, and the older
// one, once unblocked, then waits for it: two migrations of a plan never run at once (two DVMs
// would copy into the same PVCs).
func ahead(m *migv1.MigMigration, siblings []migv1.MigMigration) string {
	older := func(a, b *migv1.MigMigration) bool {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c < 0
		}
		return cmp.Less(a.Name, b.Name)
	}
	for i := range siblings {
		s := &siblings[i]
		if s.UID != m.UID && s.Status.Phase != "" && s.Status.Phase != itinerary.Completed {
			return s.Name
		}
	}
	for i := range siblings {
		s := &siblings[i]
		if s.UID == m.UID || !older(s, m) || s.Status.Phase == itinerary.Completed {
			continue
		}
		if s.Status.Phase == "" && blockedOtherThanPostponed(s.Status.Conditions) {
			continue
		}
		return s.Name
	}
	return ""
}

// blockedOtherThanPostponed says whether conditions hold a blocker other than Postponed.
func blockedOtherThanPostponed(list migv1.Conditions) bool {
	for _, c := range list {
		if c.Type != migv1.Postponed && conditions.IsBlocker(c) {
			return true
		}
	}
	return false
}
