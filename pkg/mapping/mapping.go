package mapping

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// ErrInvalidMapping is wrapped by every error of Parse.
var ErrInvalidMapping = errors.New("invalid mapping")

// Parse splits a namespace or PVC name mapping, "src" or "src:dest". A plain "src" maps to
// itself. Empty parts, more than one colon, whitespace and control characters are errors
// wrapping ErrInvalidMapping.
func Parse(s string) (src, dest string, err error) {
	if s == "" {
		return "", "", fmt.Errorf("%w: empty", ErrInvalidMapping)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", "", fmt.Errorf("%w %q: whitespace or control character", ErrInvalidMapping, s)
	}
	src, dest, found := strings.Cut(s, ":")
	switch {
	case !found:
		return s, s, nil
	case strings.Contains(dest, ":"):
		return "", "", fmt.Errorf("%w %q: more than one colon", ErrInvalidMapping, s)
	case src == "":
		return "", "", fmt.Errorf("%w %q: empty source", ErrInvalidMapping, s)
	case dest == "":
		return "", "", fmt.Errorf("%w %q: empty destination", ErrInvalidMapping, s)
	}
	return src, dest, nil
}

// Namespaces returns the plan's valid namespace mappings, source name to destination name,
// and the source names in the plan's order.
func Namespaces(plan *migv1.MigPlan) (byName map[string]string, sources []string) {
	byName = map[string]string{}
	for _, entry := range plan.Spec.Namespaces {
		src, dest, err := Parse(entry)
		if err != nil {
			continue
		}
		if _, seen := byName[src]; !seen {
			sources = append(sources, src)
		}
		byName[src] = dest
	}
	return byName, sources
}

// Destinations returns the destination namespaces of the plan, in the plan's order.
func Destinations(plan *migv1.MigPlan) []string {
	byName, sources := Namespaces(plan)
	out := make([]string, 0, len(sources))
	for _, s := range sources {
		out = append(out, byName[s])
	}
	return out
}

// Renamed returns only the namespaces whose destination name differs (Velero's
// namespaceMapping).
func Renamed(plan *migv1.MigPlan) map[string]string {
	byName, _ := Namespaces(plan)
	out := map[string]string{}
	for src, dest := range byName {
		if src != dest {
			out[src] = dest
		}
	}
	return out
}

// IntraCluster reports whether source and destination are the same cluster: the same
// MigCluster, both host clusters, or the same API server (host names compared without case,
// a missing port read as the scheme's default).
func IntraCluster(src, dest *migv1.MigCluster) bool {
	switch {
	case src == nil || dest == nil:
		return false
	case src.Namespace == dest.Namespace && src.Name == dest.Name:
		return true
	case src.Spec.IsHostCluster && dest.Spec.IsHostCluster:
		return true
	case src.Spec.IsHostCluster || dest.Spec.IsHostCluster:
		return false
	}
	a, okA := apiServer(src.Spec.URL)
	b, okB := apiServer(dest.Spec.URL)
	return okA && okB && a == b
}

// apiServer returns "host:port" of an API server URL, lower case, with the scheme's default
// port when none is given.
func apiServer(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if strings.EqualFold(u.Scheme, "http") {
			port = "80"
		}
	}
	return strings.ToLower(u.Hostname()) + ":" + port, true
}

// HookNamespaces returns the namespaces a hook of the plan may run its Job in on its target
// cluster (MigHook spec.targetCluster): the plan's source namespaces for a source hook, its
// destination namespaces for a destination hook, and the plan's own namespace (the
// operator's, where MTC's documentation runs hooks as migration-controller). A hook Job runs
// any image with the service account the plan names; the operator creates it with its own
// rights, so without this rule whoever may write a MigPlan could run a pod as any service
// account of any namespace, kube-system's included.
func HookNamespaces(plan *migv1.MigPlan, targetCluster string) []string {
	out := []string{plan.Namespace}
	if targetCluster == migv1.HookTargetDestination {
		out = append(out, Destinations(plan)...)
	} else {
		_, sources := Namespaces(plan)
		out = append(out, sources...)
	}
	return out
}
