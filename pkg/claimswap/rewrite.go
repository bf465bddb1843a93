package claimswap

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ErrUnswappable marks what no retry can fix: renames that do not fit a workload.
var ErrUnswappable = errors.New("the workloads cannot be pointed at the renamed claims")

// Renames maps the claim names of one namespace, from the name workloads mount now to the
// name they are to mount.
type Renames map[string]string

// Reversed returns the renames the other way round (a rollback's).
func (r Renames) Reversed() Renames {
	out := make(Renames, len(r))
	for from, to := range r {
		out[to] = from
	}
	return out
}

// rewritePodSpec renames the claims spec mounts and returns the renames it made, "old → new".
func rewritePodSpec(spec *corev1.PodSpec, r Renames) []string {
	var done []string
	for i := range spec.Volumes {
		src := spec.Volumes[i].PersistentVolumeClaim
		if src == nil {
			continue
		}
		if to, ok := r[src.ClaimName]; ok && to != src.ClaimName {
			done = append(done, src.ClaimName+" → "+to)
			src.ClaimName = to
		}
	}
	return done
}

// renamedClaims returns the claims spec mounts that are the targets of renames.
func renamedClaims(spec *corev1.PodSpec, r Renames) []string {
	targets := map[string]bool{}
	for from, to := range r {
		if from != to {
			targets[to] = true
		}
	}
	var out []string
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil && targets[v.PersistentVolumeClaim.ClaimName] {
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		}
	}
	return out
}

// renameVolumeUses renames the volume from to to in every container's mounts and devices:
// a StatefulSet's containers mount its claim templates by the templates' names.
func renameVolumeUses(spec *corev1.PodSpec, from, to string) {
	rename := func(cs []corev1.Container) {
		for i := range cs {
			for j := range cs[i].VolumeMounts {
				if cs[i].VolumeMounts[j].Name == from {
					cs[i].VolumeMounts[j].Name = to
				}
			}
			for j := range cs[i].VolumeDevices {
				if cs[i].VolumeDevices[j].Name == from {
					cs[i].VolumeDevices[j].Name = to
				}
			}
		}
	}
	rename(spec.InitContainers)
	rename(spec.Containers)
}

// templateRenames derives the renames of a StatefulSet's claim templates from the claim
// renames. claims are the names of the namespace's existing claims: a template is renamed
// only when each of its existing claims is renamed, all in the same way; anything else is an
// error, since the set would start some replicas on new, empty claims.
func templateRenames(set string, templates []string, claims []string, r Renames) (map[string]string, error) {
	out := map[string]string{}
	for _, tpl := range templates {
		prefix := tpl + "-" + set + "-"
		var renamed, kept []string
		target := ""
		for _, claim := range claims {
			ordinal, ok := ordinalOf(claim, prefix)
			if !ok {
				continue
			}
			to, ok := r[claim]
			if !ok || to == claim {
				kept = append(kept, claim)
				continue
			}
			renamed = append(renamed, claim)
			newTpl, ok := strings.CutSuffix(to, "-"+set+"-"+ordinal)
			if !ok || newTpl == "" {
				return nil, fmt.Errorf("%w: StatefulSet %s: claim %s is renamed %s, which does not name a claim template of the set (<template>-%s-%s)", ErrUnswappable,
					set, claim, to, set, ordinal)
			}
			if target != "" && target != newTpl {
				return nil, fmt.Errorf("%w: StatefulSet %s: the claims of template %s are renamed to two templates, %s and %s", ErrUnswappable, set, tpl, target, newTpl)
			}
			target = newTpl
		}
		if len(renamed) == 0 {
			continue
		}
		if len(kept) > 0 {
			slices.Sort(kept)
			return nil, fmt.Errorf("%w: StatefulSet %s: claims %s of template %s are not converted with the others; select them in the plan too", ErrUnswappable,
				set, strings.Join(kept, ", "), tpl)
		}
		out[tpl] = target
	}
	return out, nil
}

// ordinalOf returns the ordinal of a StatefulSet claim "<template>-<set>-<ordinal>", given
// its prefix "<template>-<set>-".
func ordinalOf(claim, prefix string) (string, bool) {
	ordinal, ok := strings.CutPrefix(claim, prefix)
	return ordinal, ok && ordinal != "" && strings.IndexFunc(ordinal, func(c rune) bool { return c < '0' || c > '9' }) < 0
}
