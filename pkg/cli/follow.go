package cli

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/migview"
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
		return migview.Outcome(st.migration) != "" || migview.Refused(st.migration), nil
	})
	if err != nil {
		return err
	}
	if migview.Refused(last.migration) {
		o.printf("Migration %s cannot start: the operator refused it (the conditions above say why).\n", name)
		return ExitError{Code: 1}
	}
	outcome := migview.Outcome(last.migration)
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
	volumes   []migview.Volume
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
	st.volumes = migview.VolumeRows(m, dvms.Items, func(dvm, pvc, pvcNamespace string) *migv1.DirectVolumeMigrationProgress {
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
