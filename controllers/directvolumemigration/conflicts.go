package directvolumemigration

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// destinationConflict returns the Critical Postponed condition of a DVM that must wait for
// another unfinished DVM copying into one of the same destination PVCs of the same cluster,
// or nil. Two rsync runs into one volume, each with --delete, would undo each other. The rule
// is the one migrations of a plan follow: a DVM that runs (or is being deleted, its pods still
// going) is waited for whatever its age; otherwise the older one goes first, unless it cannot
// start (validation blocks it). sameDestination says whether another DVM's destination
// cluster is this one's.
func destinationConflict(dvm *migv1.DirectVolumeMigration, others []migv1.DirectVolumeMigration, sameDestination func(*migv1.DirectVolumeMigration) bool) *migv1.Condition {
	if dvm.Status.Phase != "" {
		return nil // it runs already: whatever started later waits for it
	}
	mine := destinationKeys(dvm)
	older := func(a, b *migv1.DirectVolumeMigration) bool {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c < 0
		}
		return cmp.Less(a.Name, b.Name)
	}
	for i := range others {
		o := &others[i]
		if o.UID == dvm.UID || o.Status.Phase == itinerary.Completed || !sameDestination(o) {
			continue
		}
		shared := slices.DeleteFunc(destinationKeys(o), func(k string) bool { return !slices.Contains(mine, k) })
		if len(shared) == 0 {
			continue
		}
		running := o.Status.Phase != "" || !o.DeletionTimestamp.IsZero()
		if !running && (!older(o, dvm) || conditions.HasBlocker(o.Status.Conditions)) {
			continue
		}
		c := conditions.Critical(migv1.Postponed, migv1.Conflict, fmt.Sprintf(
			"Waiting for DirectVolumeMigration %s to finish: it copies into the same destination PVCs (%s).", o.Name, strings.Join(shared, ", ")))
		return &c
	}
	return nil
}

// destinationKeys returns the "namespace/name" of the DVM's destination PVCs, sorted.
func destinationKeys(dvm *migv1.DirectVolumeMigration) []string {
	var out []string
	for _, p := range dvm.Spec.PersistentVolumeClaims {
		if p.ObjectReference != nil {
			out = append(out, destKey(p))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
