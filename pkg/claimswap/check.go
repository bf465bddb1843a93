package claimswap

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// ConversionRenames returns, per namespace, the claims a storage conversion plan renames (the
// copied PVs mapped to another name): source to copy, or copy to source in a rollback.
func ConversionRenames(pvs []migv1.PV, rollback bool) map[string]Renames {
	out := map[string]Renames{}
	for _, pv := range pvs {
		if pv.Selection.Action != migv1.PvCopyAction {
			continue
		}
		src, dest, err := mapping.Parse(pv.PVC.Name)
		if err != nil || src == dest {
			continue
		}
		if rollback {
			src, dest = dest, src
		}
		if out[pv.PVC.Namespace] == nil {
			out[pv.PVC.Namespace] = Renames{}
		}
		out[pv.PVC.Namespace][src] = dest
	}
	return out
}

// CheckStatefulSet makes the checks Swap makes of StatefulSet ns/set, whose claim templates
// are templates, before it changes anything; claims are the names of the namespace's claims.
// A plan runs it so that renames Swap would refuse are reported before a migration quiesces
// the applications. The error wraps ErrUnswappable.
func CheckStatefulSet(ns, set string, templates []corev1.PersistentVolumeClaim, claims []string, r Renames) error {
	renamed, err := templateRenames(set, templateNames(templates), claims, r)
	if err != nil {
		return err
	}
	if len(renamed) > 0 && len(set) > maxSetName {
		return errSetNameTooLong(ns, set)
	}
	return nil
}

// errSetNameTooLong says set ns/set cannot be recreated with renamed claim templates.
func errSetNameTooLong(ns, set string) error {
	return fmt.Errorf("%w: StatefulSet %s/%s: its claim templates can only be renamed by recreating it, and its name is longer than %d characters",
		ErrUnswappable, ns, set, maxSetName)
}

// Check makes Swap's checks of the StatefulSets of namespace ns without changing anything,
// so that a caller can check every namespace before it swaps any: a conversion then fails
// with all its workloads as they were. Sets being recreated were checked when their
// recreation started.
func Check(ctx context.Context, c client.Client, ns string, r Renames) error {
	if len(r) == 0 {
		return nil
	}
	claims, err := claimNames(ctx, c, ns)
	if err != nil {
		return err
	}
	sets := &appsv1.StatefulSetList{}
	if err := c.List(ctx, sets, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("list StatefulSets in %s: %w", ns, err)
	}
	recreating := inRecreation(sets.Items)
	for _, set := range sets.Items {
		if recreating[set.Name] {
			continue
		}
		if err := CheckStatefulSet(ns, set.Name, set.Spec.VolumeClaimTemplates, claims, r); err != nil {
			return err
		}
	}
	return nil
}

// templateNames returns the names of a StatefulSet's claim templates.
func templateNames(templates []corev1.PersistentVolumeClaim) []string {
	out := make([]string, 0, len(templates))
	for _, t := range templates {
		out = append(out, t.Name)
	}
	return out
}

// inRecreation returns the names of the sets being recreated: each temporary set and the
// original it stands in for. Their recreation goes on (finishRecreation); they were checked
// when it started.
func inRecreation(sets []appsv1.StatefulSet) map[string]bool {
	out := map[string]bool{}
	for _, set := range sets {
		if original := set.Annotations[TemporaryAnnotation]; original != "" {
			out[set.Name], out[original] = true, true
		}
	}
	return out
}
