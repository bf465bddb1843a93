package migplan

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// namespacePair is one entry of spec.namespaces.
type namespacePair struct{ src, dest string }

// parseNamespaces splits spec.namespaces into pairs and the entries that do not parse.
func parseNamespaces(entries []string) (pairs []namespacePair, malformed []string) {
	for _, e := range entries {
		src, dest, err := mapping.Parse(e)
		if err != nil {
			malformed = append(malformed, fmt.Sprintf("%q", e))
			continue
		}
		pairs = append(pairs, namespacePair{src: src, dest: dest})
	}
	return pairs, malformed
}

func sources(pairs []namespacePair) []string {
	out := make([]string, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, p.src)
	}
	return out
}

func destinations(pairs []namespacePair) []string {
	out := make([]string, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, p.dest)
	}
	return out
}

// validateNamespaces applies MTC's rules on spec.namespaces that need no cluster.
func validateNamespaces(entries []string, limit int) []migv1.Condition {
	if len(entries) == 0 {
		return []migv1.Condition{conditions.Critical(migv1.NamespaceListEmpty, migv1.NotFound,
			"The `namespaces` list may not be empty.")}
	}
	var out []migv1.Condition
	if len(entries) > limit {
		out = append(out, conditions.Critical(migv1.NamespaceLimitExceeded, migv1.LimitExceeded,
			fmt.Sprintf("Namespace limit: %d exceeded, found:%d.", limit, len(entries))))
	}
	pairs, malformed := parseNamespaces(entries)
	if len(malformed) > 0 {
		out = append(out, conditions.Critical(migv1.InvalidNamespaceMapping, migv1.Malformed, fmt.Sprintf(
			"Namespaces [%s] are malformed: each entry must be `source` or `source:destination`.", strings.Join(malformed, ", "))))
	}
	if dup := duplicates(sources(pairs)); len(dup) > 0 {
		out = append(out, conditions.Critical(migv1.DuplicateNamespaceOnSourceCluster, migv1.DuplicateNamespaces,
			fmt.Sprintf("Duplicate source cluster namespaces [%s] in migplan.", strings.Join(dup, ", "))))
	}
	if dup := duplicates(destinations(pairs)); len(dup) > 0 {
		out = append(out, conditions.Critical(migv1.DuplicateNamespaceOnDestinationCluster, migv1.DuplicateNamespaces,
			fmt.Sprintf("Duplicate destination cluster namespaces [%s] in migplan.", strings.Join(dup, ", "))))
	}
	if bad := notDNSLabels(append(sources(pairs), destinations(pairs)...)); len(bad) > 0 {
		out = append(out, conditions.Critical(migv1.NamespaceNotDNSCompliant, migv1.NotDNSCompliant,
			fmt.Sprintf("Namespaces [%s] are not DNS compliant.", strings.Join(bad, ", "))))
	}
	return out
}

// duplicates returns the names listed more than once, in first-seen order.
func duplicates(names []string) []string {
	seen := map[string]int{}
	var out []string
	for _, n := range names {
		seen[n]++
		if seen[n] == 2 {
			out = append(out, n)
		}
	}
	return out
}

func notDNSLabels(names []string) []string {
	var out []string
	for _, n := range names {
		if len(validation.IsDNS1123Label(n)) > 0 && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
