package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// follow shows the migration live until it ends and returns ExitError{1} unless it
// succeeded (or, for a cancel, was canceled).
func (o *Options) follow(ctx context.Context, name string, cancel bool) error {
	w, err := o.watch(ctx, &migv1.MigMigration{}, &migv1.DirectVolumeMigration{},
		&migv1.DirectVolumeMigrationProgress{}, &migv1.DirectImageMigration{})
	if err != nil {
		return err
	}
	screen := newScreen(o.Out, o.isTerminal(), o.terminalWidth)
	var last viewState
	err = w.until(ctx, time.Second, func(ctx context.Context) (bool, error) {
		st, err := o.readView(ctx, w.reader, name)
		if err != nil {
			return false, err
		}
		last = st
		screen.draw(renderView(st, time.Now(), screen.tty))
		return outcomeOf(st.migration) != "" || refused(st.migration), nil
	})
	if err != nil {
		return err
	}
	if refused(last.migration) {
		o.printf("Migration %s cannot start: the operator refused it (the conditions above say why).\n", name)
		return ExitError{Code: 1}
	}
	outcome := outcomeOf(last.migration)
	screen.done()
	o.printf("Migration %s: %s.\n", name, outcome)
	for _, e := range last.migration.Status.Errors {
		o.printf("  error: %s\n", e)
	}
	if outcome == migv1.Failed {
		o.printf("Run \"ferry describe migration %s\" for the failed step and its cause.\n", name)
	}
	if outcome == migv1.Succeeded || outcome == migv1.SucceededWithWarnings || (cancel && outcome == migv1.Canceled) {
		return nil
	}
	return ExitError{Code: 1}
}

// viewState is what the live view shows, read from the informers' cache.
type viewState struct {
	migration *migv1.MigMigration
	volumes   []volumeView
	images    []migv1.DirectImageMigration
}

func (o *Options) readView(ctx context.Context, r client.Reader, name string) (viewState, error) {
	ns := o.Namespace()
	m := &migv1.MigMigration{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m); err != nil {
		return viewState{}, fmt.Errorf("MigMigration %s/%s: %w", ns, name, err)
	}
	st := viewState{migration: m}
	dvms := &migv1.DirectVolumeMigrationList{}
	if err := r.List(ctx, dvms, client.InNamespace(ns), client.MatchingLabels{migv1.DirectVolumeMigrationLabel: string(m.UID)}); err != nil {
		return st, err
	}
	st.volumes = volumeRows(m, dvms.Items, func(dvm, pvc, pvcNamespace string) *migv1.DirectVolumeMigrationProgress {
		p := &migv1.DirectVolumeMigrationProgress{}
		if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: transfer.ProgressName(dvm, pvc, pvcNamespace)}, p); err != nil {
			return nil
		}
		return p
	})
	dims := &migv1.DirectImageMigrationList{}
	if err := r.List(ctx, dims, client.InNamespace(ns), client.MatchingLabels{migv1.DirectImageMigrationLabel: string(m.UID)}); err != nil {
		return st, err
	}
	st.images = dims.Items
	return st, nil
}

// volumeRows are the rows of the migration's volumes. A cutover with warm sync copies each
// volume in several DVMs (the passes, then the final one): a volume has one row, that of its
// latest DVM, named with its warm pass while one runs.
func volumeRows(m *migv1.MigMigration, dvms []migv1.DirectVolumeMigration,
	progress func(dvm, pvc, pvcNamespace string) *migv1.DirectVolumeMigrationProgress) []volumeView {
	warmPass := map[string]int{}
	for _, ref := range m.Status.References {
		if ref.Role == migv1.ReferenceRoleWarmDirectVolumeMigration {
			warmPass[ref.Name] = len(warmPass) + 1
		}
	}
	dvms = slices.Clone(dvms)
	sort.SliceStable(dvms, func(i, j int) bool { return dvms[i].CreationTimestamp.Before(&dvms[j].CreationTimestamp) })
	var out []volumeView
	row := map[string]int{}
	for i := range dvms {
		dvm := &dvms[i]
		for _, pvc := range dvm.Spec.PersistentVolumeClaims {
			id := pvc.Namespace + "/" + pvc.Name
			v := volumeView{pvc: id, progress: progress(dvm.Name, pvc.Name, pvc.Namespace), state: volumeState(dvm, pvc.Namespace, pvc.Name)}
			if n := warmPass[dvm.Name]; n > 0 {
				v.pvc = fmt.Sprintf("%s (warm pass %d)", id, n)
			}
			if at, seen := row[id]; seen {
				out[at] = v
				continue
			}
			row[id] = len(out)
			out = append(out, v)
		}
	}
	return out
}

// outcomeOf is the condition type that ends the migration, or "" while it runs.
func outcomeOf(m *migv1.MigMigration) string {
	if m == nil {
		return ""
	}
	for _, t := range []string{migv1.Canceled, migv1.Failed, migv1.SucceededWithWarnings, migv1.Succeeded} {
		for _, c := range m.Status.Conditions {
			if c.Type == t && c.Status == migv1.True {
				return t
			}
		}
	}
	return ""
}

// refused says whether the operator refused to start the migration: it never started and a
// validation condition other than Postponed (which only waits its turn) blocks it. Such a
// migration would wait until its spec or plan changes, so watching it longer shows nothing.
func refused(m *migv1.MigMigration) bool {
	if m == nil || m.Status.Phase != "" {
		return false
	}
	for _, c := range m.Status.Conditions {
		if c.Type != migv1.Postponed && c.Type != migv1.PlanNotReady && conditions.IsBlocker(c) {
			return true
		}
	}
	return false
}
