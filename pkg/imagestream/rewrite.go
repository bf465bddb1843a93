package imagestream

import "strings"

// Rewriter turns image references of the source cluster's internal registry into references
// of the destination's, with the plan's namespace mapping: what MTC's Velero plugin does to
// restored workloads.
type Rewriter struct {
	// Source and Destination are the internal registry hosts (host[:port]).
	Source, Destination string
	// Namespaces maps source namespaces to destination namespaces; an unmapped namespace keeps
	// its name.
	Namespaces map[string]string
}

// Rewrite returns ref in the destination registry, or ref and false when ref is not an image
// of the source's internal registry.
func (r Rewriter) Rewrite(ref string) (string, bool) {
	if r.Source == "" || r.Destination == "" {
		return ref, false
	}
	rest, found := strings.CutPrefix(ref, r.Source+"/")
	if !found {
		return ref, false
	}
	ns, path, found := strings.Cut(rest, "/")
	if !found {
		return ref, false
	}
	if mapped, ok := r.Namespaces[ns]; ok && mapped != "" {
		ns = mapped
	}
	out := r.Destination + "/" + ns + "/" + path
	return out, out != ref
}
