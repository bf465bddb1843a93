package migmigration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

// roleWarmDirectVolumeMigration is the status.references role of a warm pass's DVM; the
// references of that role, in order, are the passes so far (the CLI reads them too).
const roleWarmDirectVolumeMigration = migv1.ReferenceRoleWarmDirectVolumeMigration

// Event reasons of warm sync.
const (
	reasonWarmSyncPass = "WarmSyncPass"
	reasonWarmSyncDone = "WarmSyncDone"
)

// warmKey is the name of the DVM of warm pass n (1-based) on the host: deterministic, like
// the final DVM's, so that a restarted operator finds the pass it recorded.
func (s *Scope) warmKey(n int) types.NamespacedName {
	return types.NamespacedName{Namespace: s.Migration.Namespace, Name: veleroadapter.Name(s.adapterMigration(), veleroadapter.Role(fmt.Sprintf("dvmw%d", n)))}
}

// warmRef is the status.references entry of warm pass n.
func (s *Scope) warmRef(n int) migv1.MigrationReference {
	key := s.warmKey(n)
	return migv1.MigrationReference{Role: roleWarmDirectVolumeMigration, Cluster: onHost, Kind: "DirectVolumeMigration", Namespace: key.Namespace, Name: key.Name}
}

// warmPasses is how many warm passes the migration has recorded.
func (s *Scope) warmPasses() int {
	n := 0
	for _, r := range s.Migration.Status.References {
		if r.Role == roleWarmDirectVolumeMigration {
			n++
		}
	}
	return n
}

// createWarmSync records and creates the DVM of the first warm pass.
func (r *Reconciler) createWarmSync(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	if s.record(s.warmRef(1)) {
		return requeueSoon()
	}
	if err := r.ensureWarmPass(ctx, s, 1); err != nil {
		return itinerary.Outcome{}, err
	}
	return itinerary.Done(), nil
}

// ensureWarmPass creates the DVM of warm pass n unless it exists: a Stage DVM of the plan's
// volumes (the applications run), into the same destination PVCs as every other DVM of the
// plan, so that each pass and then the final DVM copy only what changed.
func (r *Reconciler) ensureWarmPass(ctx context.Context, s *Scope, n int) error {
	key := s.warmKey(n)
	dvm := s.newDirectVolumeMigration(key)
	kind := migv1.MigrationTypeStage
	dvm.Spec.MigrationType = &kind
	if err := controllerutil.SetControllerReference(s.Migration, dvm, r.Client.Scheme()); err != nil {
		return fmt.Errorf("own DirectVolumeMigration: %w", err)
	}
	if err := r.host().Create(ctx, dvm); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create DirectVolumeMigration %s: %w", key, err)
	}
	return nil
}

// waitForWarmSync follows the current warm pass. When it completes, the pass rule
// (nextWarmPass) either records the next pass, which the next reconcile creates and
// follows, or ends warm sync: the itinerary goes on to quiesce the applications. A pass that
// fails critically fails the migration before anything was quiesced: the final copy would
// meet the same failure with the applications down.
func (r *Reconciler) waitForWarmSync(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	n := s.warmPasses()
	if n == 0 {
		// CreateDirectVolumeMigrationWarm records pass 1 before it is done; only an edited
		// status lacks it.
		return r.createWarmSync(ctx, s)
	}
	var passes []warmPass
	var lines []string
	for i := 1; i < n; i++ {
		p, err := r.measureWarm(ctx, s, i)
		if err != nil {
			return itinerary.Outcome{}, err
		}
		passes = append(passes, p)
		lines = append(lines, warmPassLine(i, p))
	}
	key := s.warmKey(n)
	dvm := &migv1.DirectVolumeMigration{}
	if err := r.host().Get(ctx, key, dvm); err != nil {
		if !apierrors.IsNotFound(err) {
			return itinerary.Outcome{}, fmt.Errorf("get DirectVolumeMigration %s: %w", key, err)
		}
		// Recorded, then not created yet (or deleted: a warm pass is only ever a head start,
		// so running it again is harmless).
		if err := r.ensureWarmPass(ctx, s, n); err != nil {
			return itinerary.Outcome{}, err
		}
		s.setProgress(append(lines, fmt.Sprintf("Warm sync pass %d: starting", n))...)
		return itinerary.Poll(pollWorkload).Observed(fmt.Sprintf("warm sync pass %d", n), "created"), nil
	}
	dvmLines, out := s.judgeDirectVolumeMigration(key, dvm)
	if !out.Done || out.Fail != nil {
		s.setProgress(append(append(lines, fmt.Sprintf("Warm sync pass %d: copying while the applications run", n)), dvmLines...)...)
		if out.Fail != nil {
			out.Fail.Message = fmt.Sprintf("Warm sync pass %d: %s. The applications were not quiesced.", n, out.Fail.Message)
		}
		return out, nil
	}
	cur, err := r.measureWarm(ctx, s, n)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	passes = append(passes, cur)
	lines = append(lines, warmPassLine(n, cur))
	again, why := nextWarmPass(passes)
	if again && !s.Settings.EnableWarmSync {
		again, why = false, "enable_warm_sync was turned off"
	}
	if again && s.record(s.warmRef(n+1)) {
		s.setProgress(append(lines, fmt.Sprintf("Warm sync pass %d: starting (%s)", n+1, why))...)
		r.Recorder.Eventf(s.Migration, nil, corev1.EventTypeNormal, reasonWarmSyncPass, s.phase, "%s; pass %d follows", warmPassLine(n, cur), n+1)
		return requeueSoon()
	}
	s.setProgress(append(lines, fmt.Sprintf("Warm sync done after %s: %s. What changed since is copied after quiescing.", passCount(n), why))...)
	r.Recorder.Eventf(s.Migration, nil, corev1.EventTypeNormal, reasonWarmSyncDone, s.phase, "%s; warm sync done: %s", warmPassLine(n, cur), why)
	return itinerary.Done(), nil
}

// measureWarm reads what warm pass n changed from its DVM's progress objects.
func (r *Reconciler) measureWarm(ctx context.Context, s *Scope, n int) (warmPass, error) {
	key := s.warmKey(n)
	dvm := &migv1.DirectVolumeMigration{}
	if err := r.host().Get(ctx, key, dvm); err != nil {
		if apierrors.IsNotFound(err) {
			return warmPass{}, nil // deleted by hand: not measured
		}
		return warmPass{}, fmt.Errorf("get DirectVolumeMigration %s: %w", key, err)
	}
	list := &migv1.DirectVolumeMigrationProgressList{}
	if err := r.host().List(ctx, list, client.InNamespace(key.Namespace), client.MatchingLabels{transfer.LabelDVM: string(dvm.UID)}); err != nil {
		return warmPass{}, fmt.Errorf("list the progress of DirectVolumeMigration %s: %w", key, err)
	}
	return measureWarmPass(list.Items, len(dvm.Spec.PersistentVolumeClaims)), nil
}

// passCount is "1 pass" or "n passes".
func passCount(n int) string {
	if n == 1 {
		return "1 pass"
	}
	return fmt.Sprintf("%d passes", n)
}
