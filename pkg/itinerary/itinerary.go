package itinerary

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Completed is the phase of a cursor whose itinerary has run out of phases. It is not a phase
// of any itinerary, so no itinerary may use the name.
const Completed = "Completed"

// RunFunc is a phase's step function. It does one bounded piece of work with the scope and
// reports how the phase stands. A non-nil error means "retry with backoff".
type RunFunc[S any] = func(context.Context, S) (Outcome, error)

// Predicate says whether a phase applies under the facts F. A nil Predicate always applies.
type Predicate[F any] = func(F) bool

// Phase is one named stage of an itinerary.
type Phase[S, F any] struct {
	// Name is persisted in the object's status: it is API and must never be renamed.
	Name string
	// Step is the coarse group shown to users (status.pipeline); several phases share a step.
	Step string
	// When says whether the phase applies under the facts; nil means always.
	When Predicate[F]
	// Run does the phase's work.
	Run RunFunc[S]
	// Timeout fails the phase when it has not finished this long after it started; 0 means
	// no limit.
	Timeout time.Duration
	// Watch says the phase waits for work outside the operator that has no natural bound (a
	// Velero Backup, a Job, a transfer): while it is not done, the engine compares what the
	// step function observed (Outcome.Progress) with what it observed before, and reports a
	// Stall, then fails the phase with ReasonNoProgress, when it stops changing for
	// Options.Watchdog's limits. An error counts as no progress.
	Watch bool
}

// Applies reports whether the phase applies under the facts f.
func (p Phase[S, F]) Applies(f F) bool {
	return p.When == nil || p.When(f)
}

// Itinerary is a named, ordered list of phases.
type Itinerary[S, F any] struct {
	Name   string
	Phases []Phase[S, F]
}

// Index returns the position of the named phase in the itinerary, or -1.
func (it Itinerary[S, F]) Index(name string) int {
	for i := range it.Phases {
		if it.Phases[i].Name == name {
			return i
		}
	}
	return -1
}

// Find returns the named phase and whether the itinerary has it.
func (it Itinerary[S, F]) Find(name string) (Phase[S, F], bool) {
	if i := it.Index(name); i >= 0 {
		return it.Phases[i], true
	}
	return Phase[S, F]{}, false
}

// Validate reports programming errors in an itinerary: a missing name, step or step function,
// a duplicate name, or the reserved name Completed.
func (it Itinerary[S, F]) Validate() error {
	var errs []error
	if it.Name == "" {
		errs = append(errs, errors.New("itinerary has no name"))
	}
	seen := make(map[string]bool, len(it.Phases))
	for i, p := range it.Phases {
		switch {
		case p.Name == "":
			errs = append(errs, fmt.Errorf("itinerary %s: phase %d has no name", it.Name, i))
		case p.Name == Completed:
			errs = append(errs, fmt.Errorf("itinerary %s: %q is reserved for the end of an itinerary", it.Name, Completed))
		case seen[p.Name]:
			errs = append(errs, fmt.Errorf("itinerary %s: duplicate phase %s", it.Name, p.Name))
		}
		seen[p.Name] = true
		if p.Step == "" {
			errs = append(errs, fmt.Errorf("itinerary %s: phase %s has no step", it.Name, p.Name))
		}
		if p.Run == nil {
			errs = append(errs, fmt.Errorf("itinerary %s: phase %s has no step function", it.Name, p.Name))
		}
	}
	return errors.Join(errs...)
}

// Subset returns a new itinerary called name with the named phases of from, which must be
// given in from's order. An unknown, repeated or out-of-order name panics: itineraries are
// built once at start-up, and such a mistake is a programming error.
func Subset[S, F any](from Itinerary[S, F], name string, phaseNames ...string) Itinerary[S, F] {
	out := Itinerary[S, F]{Name: name, Phases: make([]Phase[S, F], 0, len(phaseNames))}
	last := -1
	for _, n := range phaseNames {
		i := from.Index(n)
		switch {
		case i < 0:
			panic(fmt.Sprintf("itinerary.Subset %s: %s has no phase %q", name, from.Name, n))
		case i <= last:
			panic(fmt.Sprintf("itinerary.Subset %s: phase %q is repeated or out of %s's order", name, n, from.Name))
		}
		last = i
		out.Phases = append(out.Phases, from.Phases[i])
	}
	return out
}

// WithStep returns a copy of the itinerary in which the named phases belong to step. Only
// what users see changes; the phases' behaviour stays the same. An unknown name panics.
func (it Itinerary[S, F]) WithStep(step string, phaseNames ...string) Itinerary[S, F] {
	out := Itinerary[S, F]{Name: it.Name, Phases: append([]Phase[S, F](nil), it.Phases...)}
	for _, n := range phaseNames {
		i := out.Index(n)
		if i < 0 {
			panic(fmt.Sprintf("itinerary.WithStep %s: no phase %q", it.Name, n))
		}
		out.Phases[i].Step = step
	}
	return out
}

// Applicable returns the phases of the itinerary that apply under the facts f, in order.
func Applicable[S, F any](it Itinerary[S, F], f F) []Phase[S, F] {
	var out []Phase[S, F]
	for _, p := range it.Phases {
		if p.Applies(f) {
			out = append(out, p)
		}
	}
	return out
}

// Position returns where phase stands among the phases that apply under f, for messages such
// as "Step: n/total": n is 1-based. A phase entered before the facts changed still counts,
// and Completed is total/total. An unknown phase is 0/total.
func Position[S, F any](it Itinerary[S, F], f F, phase string) (n, total int) {
	at := it.Index(phase)
	for i, p := range it.Phases {
		switch {
		case i == at:
			n = total + 1
			total++
		case p.Applies(f):
			total++
		}
	}
	if phase == Completed {
		n = total
	}
	return n, total
}

// next returns the index of the first phase after i that applies under f, or -1.
func (it Itinerary[S, F]) next(i int, f F) int {
	for j := i + 1; j < len(it.Phases); j++ {
		if it.Phases[j].Applies(f) {
			return j
		}
	}
	return -1
}
