package migmigration

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/mapping"
	appquiesce "github.com/ferrymtc/ferry/pkg/quiesce"
)

// quiesceSource scales the source applications to zero.
func quiesceSource(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	return quiesceIn(ctx, s, s.Source, s.sourceNamespaces(), false)
}

// ensureSourceQuiesced waits until the source applications' pods are gone.
func ensureSourceQuiesced(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	return waitQuiesced(ctx, s, s.Source, s.sourceNamespaces(), false)
}

// quiesceDestination scales the destination applications to zero (rollback).
func quiesceDestination(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	return quiesceIn(ctx, s, s.Destination, s.destinationNamespaces(), true)
}

// quiesceIn scales the applications of namespaces on cluster r to zero.
func quiesceIn(ctx context.Context, s *Scope, r Remote, namespaces []string, destination bool) (itinerary.Outcome, error) {
	opts, err := s.quiesceOptions(ctx, namespaces, destination)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	report, err := appquiesce.Quiesce(ctx, r.Client, opts)
	if err != nil {
		return itinerary.Outcome{}, fmt.Errorf("quiesce the %s applications: %w", side(destination), err)
	}
	s.setProgress(report.Changed...)
	return itinerary.Done(), nil
}

// unquiesceIn starts the applications of namespaces on cluster r that the plan stopped, with
// the replicas they had, and describes what it changed.
func unquiesceIn(ctx context.Context, s *Scope, r Remote, namespaces []string, destination bool) ([]string, error) {
	opts, err := s.quiesceOptions(ctx, namespaces, destination)
	if err != nil {
		return nil, err
	}
	report, err := appquiesce.Unquiesce(ctx, r.Client, opts)
	if err != nil {
		return nil, fmt.Errorf("unquiesce the %s applications: %w", side(destination), err)
	}
	return report.Changed, nil
}

// side names the cluster quiesce acts on.
func side(destination bool) string {
	if destination {
		return "destination"
	}
	return "source"
}

// ensureDestinationQuiesced waits until the destination applications' pods are gone.
func ensureDestinationQuiesced(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	return waitQuiesced(ctx, s, s.Destination, s.destinationNamespaces(), true)
}

func waitQuiesced(ctx context.Context, s *Scope, r Remote, namespaces []string, destination bool) (itinerary.Outcome, error) {
	opts, err := s.quiesceOptions(ctx, namespaces, destination)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	left, err := appquiesce.Remaining(ctx, r.Client, opts)
	if err != nil {
		return itinerary.Outcome{}, fmt.Errorf("list remaining application pods: %w", err)
	}
	if len(left) > 0 {
		s.setProgress(append([]string{fmt.Sprintf("Waiting for %d pods to stop.", len(left))}, listed(left)...)...)
		return itinerary.Poll(pollWorkload), nil
	}
	s.setProgress("All application pods have stopped.")
	return itinerary.Done(), nil
}

// KeepSourceQuiescedAnnotation on a MigMigration set to "true" keeps the source applications
// scaled down when the migration fails or is canceled (Ferry starts them again by default,
// where MTC left them down). A rollback always starts them.
const KeepSourceQuiescedAnnotation = "ferrymtc.io/keep-source-quiesced"

// unquiesceSource starts the source applications again with the replicas they had.
func unquiesceSource(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	if !s.Facts.Rollback && s.Migration.Annotations[KeepSourceQuiescedAnnotation] == "true" {
		s.setProgress(fmt.Sprintf("The source applications stay scaled down, as annotation %s asks.", KeepSourceQuiescedAnnotation))
		return itinerary.Done(), nil
	}
	if s.Facts.StorageConversion {
		// A conversion canceled or failed in SwapPVCReferences may have left a StatefulSet
		// half-recreated: only its temporary copy holds it.
		pending, err := finishRecreations(ctx, s)
		if err != nil {
			return itinerary.Outcome{}, err
		}
		if len(pending) > 0 {
			s.setProgress(pending...)
			return itinerary.Poll(pollWorkload), nil
		}
	}
	changed, err := unquiesceIn(ctx, s, s.Source, s.sourceNamespaces(), false)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	s.setProgress(changed...)
	return itinerary.Done(), nil
}

// unquiesceDestination points restored workloads at the images the DirectImageMigration
// copied (rewriteDestinationImages), then starts the restored applications with the source's
// replicas: restored objects that carry quiesce annotations get their original values back.
// Restored objects carry the plan as their owner (see quiesceOptions) when this plan's
// quiesce stopped them on the source.
func unquiesceDestination(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	rewritten, err := rewriteDestinationImages(ctx, s)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	changed, err := unquiesceIn(ctx, s, s.Destination, s.destinationNamespaces(), true)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	s.setProgress(append(rewritten, changed...)...)
	markDestinationStarted(s.Migration, s.Now)
	return itinerary.Done(), nil
}

// markDestinationStarted records, durably, that the destination runs the applications (see
// Facts.DestUnquiesced).
func markDestinationStarted(m *migv1.MigMigration, now func() time.Time) {
	if conditions.Find(m.Status.Conditions, migv1.DestinationApplicationsStarted) != nil {
		return
	}
	c := conditions.Advisory(migv1.DestinationApplicationsStarted, "", "The applications were started on the destination cluster.")
	c.Durable = true
	conditions.Set(m, c, nowMeta(now))
}

// quiesceOptions limits quiesce to workloads using the plan's copied PVCs when another open
// plan shares one of the namespaces (MTC's rule). Plans are listed on the host, where they
// live; MTC listed them on the application cluster. Un-quiesce uses the same scope, and the
// plan's UID as owner: what the plan's quiesce stopped records it, and an un-quiesce of this
// plan (its cancel, failure or rollback) never starts what another plan stopped, even when
// that plan has been closed since and the scope is the whole namespace again. The owner is
// the plan, not the migration: a rollback starts what the plan's final migration stopped.
func (s *Scope) quiesceOptions(ctx context.Context, namespaces []string, destination bool) (appquiesce.Options, error) {
	opts := appquiesce.Options{Namespaces: namespaces, Owner: string(s.Plan.UID)}
	plans := &migv1.MigPlanList{}
	if err := s.Host.List(ctx, plans, client.InNamespace(s.Plan.Namespace)); err != nil {
		return opts, fmt.Errorf("list MigPlans: %w", err)
	}
	shared := false
	for i := range plans.Items {
		p := &plans.Items[i]
		if p.UID == s.Plan.UID || p.Spec.Closed {
			continue
		}
		others := mapping.Destinations(p)
		if !destination {
			_, others = mapping.Namespaces(p)
		}
		if slices.ContainsFunc(namespaces, func(ns string) bool { return slices.Contains(others, ns) }) {
			shared = true
			break
		}
	}
	if !shared {
		return opts, nil
	}
	byName, _ := mapping.Namespaces(s.Plan)
	opts.OnlyPVCs = map[types.NamespacedName]bool{}
	for _, pv := range s.Plan.Spec.PersistentVolumes {
		if pv.Selection.Action != migv1.PvCopyAction {
			continue
		}
		src, dest, err := mapping.Parse(pv.PVC.Name)
		if err != nil {
			continue
		}
		key := types.NamespacedName{Namespace: pv.PVC.Namespace, Name: src}
		if destination {
			key = types.NamespacedName{Namespace: byName[pv.PVC.Namespace], Name: dest}
		}
		opts.OnlyPVCs[key] = true
	}
	return opts, nil
}
