package migplan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// Messages shared with users' tooling.
const (
	suspendedMessage = "The migrations plan is in suspended state; Limited validation enforced; " +
		"PV discovery and resource reconciliation suspended."
	readyMessage = "The migration plan is ready."
)

// conflictingPlans returns the names of other open plans that share a cluster (in either
// direction) and a namespace with plan. MTC compares whole entries, so "app" and "app:app2"
// did not conflict although both migrate namespace app; Ferry compares the namespace names on
// either side of the mapping. Clusters are compared as mapping.IntraCluster does (the same
// MigCluster, both the host, or the same API server), through the MigClusters in clusters:
// two MigClusters for one API server are one cluster (MTC compared the references only).
func conflictingPlans(plan *migv1.MigPlan, others []migv1.MigPlan, clusters map[types.NamespacedName]*migv1.MigCluster) []string {
	refs := func(p *migv1.MigPlan) []types.NamespacedName {
		var out []types.NamespacedName
		for _, ref := range []*corev1.ObjectReference{p.Spec.SrcMigClusterRef, p.Spec.DestMigClusterRef} {
			if k, ok := refKey(ref, p.Namespace); ok {
				out = append(out, k)
			}
		}
		return out
	}
	same := func(a, b types.NamespacedName) bool {
		return a == b || mapping.IntraCluster(clusters[a], clusters[b])
	}
	mine, mineNS := refs(plan), namespaceNames(plan.Spec.Namespaces)
	var out []string
	for i := range others {
		o := &others[i]
		if o.UID == plan.UID || o.Spec.Closed {
			continue
		}
		shareCluster := slices.ContainsFunc(refs(o), func(c types.NamespacedName) bool {
			return slices.ContainsFunc(mine, func(m types.NamespacedName) bool { return same(c, m) })
		})
		shareNamespace := slices.ContainsFunc(namespaceNames(o.Spec.Namespaces), func(n string) bool { return slices.Contains(mineNS, n) })
		if shareCluster && shareNamespace {
			out = append(out, o.Namespace+"/"+o.Name)
		}
	}
	sort.Strings(out)
	return out
}

// namespaceNames returns every namespace named by the entries, source and destination.
func namespaceNames(entries []string) []string {
	pairs, _ := parseNamespaces(entries)
	return append(sources(pairs), destinations(pairs)...)
}

func planConflict(names []string) []migv1.Condition {
	if len(names) == 0 {
		return nil
	}
	return []migv1.Condition{conditions.Error(migv1.PlanConflict, migv1.Conflict,
		fmt.Sprintf("The migration plan is in conflict with [%s].", strings.Join(names, ", ")))}
}

// newestFirst returns the plan's migrations sorted by creation, newest first.
func newestFirst(migrations []migv1.MigMigration) []migv1.MigMigration {
	out := slices.Clone(migrations)
	sort.SliceStable(out, func(i, j int) bool {
		return out[j].CreationTimestamp.Before(&out[i].CreationTimestamp)
	})
	return out
}

func succeeded(m *migv1.MigMigration) bool {
	return conditions.IsTrue(m.Status.Conditions, migv1.Succeeded) || conditions.IsTrue(m.Status.Conditions, migv1.SucceededWithWarnings)
}

// isSuspended applies MTC's rule: walking migrations newest first, a running one or a
// succeeded final migration suspends the plan, a succeeded rollback releases it. A refresh
// request lifts the suspension for one reconcile.
func isSuspended(plan *migv1.MigPlan, migrations []migv1.MigMigration) bool {
	if plan.Spec.Refresh {
		return false
	}
	for _, m := range newestFirst(migrations) {
		switch {
		case conditions.IsTrue(m.Status.Conditions, migv1.Running):
			return true
		case succeeded(&m) && m.Spec.Rollback:
			return false
		case succeeded(&m) && !m.Spec.Stage && !m.Spec.MigrateState:
			return true
		}
	}
	return false
}

// migrationType identifies the plan's type as MTC does, returning the MigrationTypeIdentified
// condition and, for impossible combinations, a blocking IntraClusterMigration condition.
func migrationType(plan *migv1.MigPlan, intra bool, migrations []migv1.MigMigration) []migv1.Condition {
	identified := func(reason, msg string) migv1.Condition {
		return conditions.Advisory(migv1.MigrationTypeIdentified, reason, msg)
	}
	if plan.Spec.IndirectImageMigration || plan.Spec.IndirectVolumeMigration {
		out := []migv1.Condition{identified(migv1.NamespaceMigrationPlan, "Indirect migration modes can only be used for full namespace migrations.")}
		if intra && plan.Spec.IndirectVolumeMigration {
			out = append(out, conditions.Critical(migv1.IntraClusterMigration, migv1.NamespaceMigrationPlan,
				"Indirect volume migration mode cannot be used in intra-cluster migrations."))
		}
		return out
	}
	pairs, _ := parseNamespaces(plan.Spec.Namespaces)
	remapped := 0
	for _, p := range pairs {
		if p.src != p.dest {
			remapped++
		}
	}
	if ordered := newestFirst(migrations); len(ordered) > 0 && (!ordered[0].Spec.Rollback || !succeeded(&ordered[0])) {
		return []migv1.Condition{fromHistory(ordered, intra, remapped, identified)}
	}
	switch {
	case intra && remapped > 0 && remapped < len(pairs):
		return []migv1.Condition{conditions.Critical(migv1.IntraClusterMigration, migv1.ConflictingNamespaces,
			"Either all or none of the source namespaces should be mapped to new destination namespaces in an intra-cluster migration.")}
	case intra && remapped == 0:
		return []migv1.Condition{identified(migv1.StorageConversionPlan, "The plan converts the storage of volumes within one cluster.")}
	case intra:
		return []migv1.Condition{identified(migv1.StateMigrationPlan, "The plan migrates state to other namespaces of the same cluster.")}
	case renamesPVCs(plan):
		return []migv1.Condition{identified(migv1.StateMigrationPlan, "PVC mappings make this a state migration plan.")}
	}
	// A plain inter-cluster plan without migrations gets no type (MTC's rules): it may still
	// become a state migration plan by its first migration.
	return nil
}

// fromHistory infers the type from the plan's earlier migrations: once a state migration ran,
// the plan stays a state (or storage conversion) plan until a rollback succeeds.
func fromHistory(ordered []migv1.MigMigration, intra bool, remapped int, identified func(string, string) migv1.Condition) migv1.Condition {
	stateRan := slices.ContainsFunc(ordered, func(m migv1.MigMigration) bool { return m.Spec.MigrateState })
	var c migv1.Condition
	switch {
	case stateRan && intra && remapped == 0:
		c = identified(migv1.StorageConversionPlan, "The plan was used for storage conversion and can only be used for further storage conversions.")
	case stateRan:
		c = identified(migv1.StateMigrationPlan, "The plan was used for state migration and can only be used for further state migrations.")
	default:
		c = identified(migv1.NamespaceMigrationPlan, "The plan was used for namespace migration and can only be used for further Stage/Final migrations.")
	}
	c.Durable = true
	return c
}

func renamesPVCs(plan *migv1.MigPlan) bool {
	return slices.ContainsFunc(plan.Spec.PersistentVolumes, func(pv migv1.PV) bool {
		src, dest, err := mapping.Parse(pv.PVC.Name)
		return err == nil && src != dest
	})
}

// planType returns the reason of the MigrationTypeIdentified condition among conds.
func planType(conds []migv1.Condition) string {
	if c := conditions.Find(conds, migv1.MigrationTypeIdentified); c != nil {
		return c.Reason
	}
	return ""
}
