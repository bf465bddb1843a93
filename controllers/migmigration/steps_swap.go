package migmigration

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/claimswap"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// swapPVCReferences points the workloads of a storage conversion at the PVCs the DVM copied
// to (MTC's SwapPVCReferences), or back at the original PVCs in a rollback. Every namespace
// is checked before any is changed, so a swap that cannot be done fails with the workloads as
// they were (SwapPVCReferencesFailed), and the Failed itinerary starts them. Once swapped,
// a conversion labels the original PVCs as its sources and starts the applications again: its
// Stage itinerary has no other phase that does; a rollback's UnQuiesceSrcApplications does.
func swapPVCReferences(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	renames := s.claimRenames()
	namespaces := slices.Sorted(maps.Keys(renames))
	for _, ns := range namespaces {
		err := claimswap.Check(ctx, s.Destination.Client, ns, renames[ns])
		if errors.Is(err, claimswap.ErrUnswappable) {
			return itinerary.Failed("SwapPVCReferencesFailed", err.Error()), nil
		}
		if err != nil {
			return itinerary.Outcome{}, fmt.Errorf("check the workloads of %s: %w", ns, err)
		}
	}
	var pointed, pending, kept []string
	for _, ns := range namespaces {
		res, err := claimswap.Swap(ctx, s.Destination.Client, ns, renames[ns])
		if errors.Is(err, claimswap.ErrUnswappable) {
			return itinerary.Failed("SwapPVCReferencesFailed", err.Error()), nil
		}
		if err != nil {
			return itinerary.Outcome{}, fmt.Errorf("point the workloads of %s at the converted PVCs: %w", ns, err)
		}
		pointed, pending, kept = append(pointed, res.Pointed...), append(pending, res.Pending...), append(kept, res.Kept...)
	}
	if len(pending) > 0 {
		s.setProgress(append(pending, pointed...)...)
		return itinerary.Poll(pollWorkload), nil
	}
	if len(kept) > 0 {
		s.warn(migv1.WorkloadsKeepOldPVCs, strings.Join(kept, "; ")+".")
	}
	if err := s.markConversionSources(ctx, renames); err != nil {
		return itinerary.Outcome{}, err
	}
	if !s.Facts.Rollback {
		started, err := unquiesceIn(ctx, s, s.Source, s.sourceNamespaces(), false)
		if err != nil {
			return itinerary.Outcome{}, err
		}
		pointed = append(pointed, started...)
	}
	s.setProgress(pointed...)
	return itinerary.Done(), nil
}

// finishRecreations completes the StatefulSet recreations SwapPVCReferences left half-done,
// and returns what is still on its way.
func finishRecreations(ctx context.Context, s *Scope) ([]string, error) {
	var pending []string
	for _, ns := range s.sourceNamespaces() {
		res, err := claimswap.FinishRecreations(ctx, s.Source.Client, ns)
		if err != nil {
			return nil, fmt.Errorf("finish the StatefulSet recreations in %s: %w", ns, err)
		}
		pending = append(pending, res.Pending...)
	}
	return pending, nil
}

// claimRenames returns, per namespace, the claims the conversion renames: source to target,
// or target to source in a rollback.
func (s *Scope) claimRenames() map[string]claimswap.Renames {
	return claimswap.ConversionRenames(s.Plan.Spec.PersistentVolumes, s.Facts.Rollback)
}

// markConversionSources labels the PVCs the workloads no longer mount as the conversion's
// sources (MTC's label, which keeps other plans from picking them up), and takes the label
// off the PVCs a rollback points the workloads at again.
func (s *Scope) markConversionSources(ctx context.Context, renames map[string]claimswap.Renames) error {
	for ns, r := range renames {
		for from, to := range r {
			source := from
			if s.Facts.Rollback {
				source = to
			}
			pvc := &corev1.PersistentVolumeClaim{}
			if err := s.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: source}, pvc); err != nil {
				if apierrors.IsNotFound(err) {
					continue
				}
				return fmt.Errorf("get PVC %s/%s: %w", ns, source, err)
			}
			before := pvc.DeepCopy()
			if s.Facts.Rollback {
				delete(pvc.Labels, migv1.SourceForDirectVolumeMigrationLabel)
			} else {
				if pvc.Labels == nil {
					pvc.Labels = map[string]string{}
				}
				pvc.Labels[migv1.SourceForDirectVolumeMigrationLabel] = string(s.Plan.UID)
			}
			if maps.Equal(before.Labels, pvc.Labels) {
				continue
			}
			if err := s.Destination.Client.Patch(ctx, pvc, client.MergeFrom(before)); err != nil {
				return fmt.Errorf("label PVC %s/%s: %w", ns, source, err)
			}
		}
	}
	return nil
}
