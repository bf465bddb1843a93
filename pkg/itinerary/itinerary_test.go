package itinerary

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func names(phases []Phase[*fakeScope, facts]) []string {
	out := make([]string, 0, len(phases))
	for _, p := range phases {
		out = append(out, p.Name)
	}
	return out
}

func TestSubset(t *testing.T) {
	sub := Subset(testItinerary(), "Sub", "A", "C")
	if sub.Name != "Sub" || !slices.Equal(names(sub.Phases), []string{"A", "C"}) {
		t.Fatalf("Subset = %s %v, want Sub [A C]", sub.Name, names(sub.Phases))
	}
	if sub.Phases[1].Timeout == 0 || sub.Phases[1].Step != "Two" {
		t.Errorf("Subset lost phase C's fields: %+v", sub.Phases[1])
	}
}

func TestSubsetPanics(t *testing.T) {
	cases := map[string][]string{
		"unknown":      {"A", "Z"},
		"out of order": {"C", "A"},
		"repeated":     {"A", "A"},
	}
	for name, phaseNames := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Subset(%v) did not panic", phaseNames)
				}
			}()
			Subset(testItinerary(), "Sub", phaseNames...)
		})
	}
}

func TestWithStep(t *testing.T) {
	it := testItinerary()
	got := it.WithStep("Other", "A", "D")
	steps := make([]string, 0, len(got.Phases))
	for _, p := range got.Phases {
		steps = append(steps, p.Step)
	}
	if want := []string{"Other", "One", "Two", "Other"}; !slices.Equal(steps, want) {
		t.Errorf("steps = %v, want %v", steps, want)
	}
	if it.Phases[0].Step != "One" {
		t.Error("WithStep changed the original itinerary")
	}
	defer func() {
		if recover() == nil {
			t.Error("WithStep of an unknown phase did not panic")
		}
	}()
	it.WithStep("Other", "Z")
}

func TestValidate(t *testing.T) {
	if err := testItinerary().Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	bad := testItinerary()
	bad.Phases = append(bad.Phases, phase("A", "One", nil), phase(Completed, "One", nil), phase("", "One", nil))
	bad.Phases[1].Step = ""
	bad.Phases[2].Run = nil
	err := bad.Validate()
	for _, want := range []string{"duplicate phase A", "reserved", "phase 6 has no name", "phase B has no step", "phase C has no step function"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to mention %q", err, want)
		}
	}
}

func TestApplicable(t *testing.T) {
	it := testItinerary()
	if got := names(Applicable(it, facts{})); !slices.Equal(got, []string{"A", "B", "C", "D"}) {
		t.Errorf("Applicable = %v", got)
	}
	if got := names(Applicable(it, facts{skipB: true})); !slices.Equal(got, []string{"A", "C", "D"}) {
		t.Errorf("Applicable(skipB) = %v", got)
	}
}

func TestPosition(t *testing.T) {
	cases := []struct {
		phase    string
		facts    facts
		n, total int
	}{
		{"A", facts{}, 1, 4},
		{"D", facts{}, 4, 4},
		{"C", facts{skipB: true}, 2, 3},
		{"B", facts{skipB: true}, 2, 4}, // entered before the facts changed: still counted
		{Completed, facts{}, 4, 4},
		{Completed, facts{skipB: true}, 3, 3},
		{"Unknown", facts{}, 0, 4},
		{"", facts{}, 0, 4},
	}
	for _, tc := range cases {
		n, total := Position(testItinerary(), tc.facts, tc.phase)
		if n != tc.n || total != tc.total {
			t.Errorf("Position(%q, %+v) = %d/%d, want %d/%d", tc.phase, tc.facts, n, total, tc.n, tc.total)
		}
	}
}

func TestPredicates(t *testing.T) {
	yes := func(facts) bool { return true }
	no := func(facts) bool { return false }
	cases := []struct {
		name string
		p    Predicate[facts]
		want bool
	}{
		{"All of none", All[facts](), true},
		{"All true", All(yes, yes), true},
		{"All with one false", All(yes, no), false},
		{"Any of none", Any[facts](), false},
		{"Any with one true", Any(no, yes), true},
		{"Any all false", Any(no, no), false},
		{"Not true", Not(yes), false},
		{"Not false", Not(no), true},
		{"nested", All(yes, Any(no, Not(no))), true},
	}
	for _, tc := range cases {
		if got := tc.p(facts{}); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPollAfterGrowsWithTheWait(t *testing.T) {
	for _, tc := range []struct {
		waited, limit, want time.Duration
	}{
		{0, 2 * time.Second, FirstPoll},
		{-time.Second, 2 * time.Second, FirstPoll},
		{500 * time.Millisecond, 2 * time.Second, FirstPoll},
		{2 * time.Second, 2 * time.Second, 500 * time.Millisecond},
		{6 * time.Second, 2 * time.Second, 1500 * time.Millisecond},
		{time.Minute, 2 * time.Second, 2 * time.Second},
		{10 * time.Second, 3 * time.Second, 2500 * time.Millisecond},
		{time.Hour, 3 * time.Second, 3 * time.Second},
		{time.Second, 100 * time.Millisecond, 100 * time.Millisecond},
	} {
		if got := PollAfter(tc.waited, tc.limit); got != tc.want {
			t.Errorf("PollAfter(%s, %s) = %s, want %s", tc.waited, tc.limit, got, tc.want)
		}
	}
}
