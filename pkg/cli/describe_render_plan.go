package cli

import (
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// describePlanText renders `ferry describe plan`.
func describePlanText(d *describedPlan, now time.Time) string {
	w := &descWriter{now: now}
	p := d.Plan
	w.planHeader(p)
	w.blank()
	w.planNamespaces(p)
	w.blank()
	w.planVolumes(p.Spec.PersistentVolumes)
	w.blank()
	w.planHooks(p.Spec.Hooks)
	w.blank()
	w.conditions(0, p.Status.Conditions)
	w.blank()
	w.planMigrations(d)
	return w.String()
}

// planHeader writes the plan's clusters, repository and how it migrates.
func (w *descWriter) planHeader(p *migv1.MigPlan) {
	spec := p.Spec
	planType := ""
	if c := conditions.Find(p.Status.Conditions, migv1.MigrationTypeIdentified); c != nil {
		planType = c.Reason
	}
	volumes, images := "direct", "direct"
	if spec.IndirectVolumeMigration {
		volumes = "indirect (through the replication repository: stage pods and Velero's node-agent)"
	}
	if spec.IndirectImageMigration {
		images = "indirect (Velero)"
	}
	live, selector := "", ""
	if spec.LiveMigrate != nil {
		live = descYesNo(*spec.LiveMigrate)
	}
	if spec.LabelSelector != nil {
		selector = metav1.FormatLabelSelector(spec.LabelSelector)
	}
	included := make([]string, 0, len(spec.IncludedResources))
	for _, gk := range spec.IncludedResources {
		if gk != nil {
			included = append(included, gk.String())
		}
	}
	w.fields(0,
		descField{"Name", p.Name},
		descField{"Namespace", p.Namespace},
		descField{"Ready", descYesNo(conditions.IsTrue(p.Status.Conditions, migv1.Ready))},
		descField{"Closed", descYesNo(spec.Closed)},
		descField{"Type", planType},
		descField{"Source cluster", descRef(spec.SrcMigClusterRef)},
		descField{"Destination cluster", descRef(spec.DestMigClusterRef)},
		descField{"Replication repository", descRef(spec.MigStorageRef)},
		descField{"Volume migration", volumes},
		descField{"Image migration", images},
		descField{"Live migration", live},
		descField{"Label selector", selector},
		descField{"Included resources", strings.Join(included, ", ")},
	)
}

// planNamespaces writes the "src:dest" namespace mappings as two columns.
func (w *descWriter) planNamespaces(p *migv1.MigPlan) {
	if len(p.Spec.Namespaces) == 0 {
		w.line(0, "Namespaces: <none>")
		return
	}
	w.heading(0, "Namespaces")
	rows := make([][]string, 0, len(p.Spec.Namespaces))
	for _, entry := range p.Spec.Namespaces {
		src, dest, err := mapping.Parse(entry)
		if err != nil {
			rows = append(rows, []string{entry, "(invalid: " + err.Error() + ")"})
			continue
		}
		rows = append(rows, []string{src, dest})
	}
	w.table(1, []string{"SOURCE", "DESTINATION"}, rows)
}

// planVolumes writes the plan's PVs with what the user selected for each.
func (w *descWriter) planVolumes(pvs []migv1.PV) {
	if len(pvs) == 0 {
		w.line(0, "Persistent volumes: <none>")
		return
	}
	w.heading(0, "Persistent volumes")
	rows := make([][]string, 0, len(pvs))
	for _, pv := range pvs {
		pvc := pv.PVC.Name
		if src, dest, err := mapping.Parse(pv.PVC.Name); err == nil {
			pvc = descKey(pv.PVC.Namespace, src)
			if dest != src {
				pvc += " -> " + dest
			}
		}
		verify := ""
		if pv.Selection.CopyMethod != "" || pv.Selection.Verify {
			verify = descYesNo(pv.Selection.Verify)
		}
		capacity := ""
		if !pv.Capacity.IsZero() {
			capacity = pv.Capacity.String()
		}
		rows = append(rows, []string{pv.Name, pvc, capacity, pv.StorageClass, pv.Selection.Action,
			pv.Selection.StorageClass, string(pv.Selection.AccessMode), pv.Selection.CopyMethod, verify})
	}
	w.table(1, []string{"PV", "PVC", "CAPACITY", "STORAGE CLASS", "ACTION", "TARGET STORAGE CLASS", "ACCESS MODE", "COPY METHOD", "VERIFY"}, rows)
}

// planHooks writes the hooks the plan runs and where.
func (w *descWriter) planHooks(hooks []migv1.MigPlanHook) {
	if len(hooks) == 0 {
		w.line(0, "Hooks: <none>")
		return
	}
	w.heading(0, "Hooks")
	rows := make([][]string, 0, len(hooks))
	for _, h := range hooks {
		rows = append(rows, []string{h.Phase, descRef(h.Reference), h.ExecutionNamespace, h.ServiceAccount})
	}
	w.table(1, []string{"PHASE", "MIGHOOK", "EXECUTION NAMESPACE", "SERVICE ACCOUNT"}, rows)
}

// planMigrations lists the plan's migrations newest first: what ran and how it ended.
func (w *descWriter) planMigrations(d *describedPlan) {
	if d.MigrationsError != "" {
		w.line(0, "Migrations: "+d.MigrationsError)
		return
	}
	if len(d.Migrations) == 0 {
		w.line(0, "Migrations: <none>")
		return
	}
	list := append([]migv1.MigMigration(nil), d.Migrations...)
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].CreationTimestamp, list[j].CreationTimestamp
		if !a.Equal(&b) {
			return b.Before(&a)
		}
		return list[i].Name > list[j].Name
	})
	w.heading(0, "Migrations")
	rows := make([][]string, 0, len(list))
	for i := range list {
		m := &list[i]
		rows = append(rows, []string{m.Name, descMigrationKind(m.Spec), m.Status.Phase, descMigrationOutcome(m), w.time(m.Status.StartTimestamp), descMigrationElapsed(m, w.now)})
	}
	w.table(1, []string{"NAME", "KIND", "PHASE", "OUTCOME", "STARTED", "ELAPSED"}, rows)
}
