package transfer

import (
	"fmt"
	"strconv"
	"strings"
)

// OpenShift's namespace annotations: the user IDs and supplemental groups its restricted
// security context constraints let the namespace's pods use. A pod asking for a user or an
// fsGroup outside them is refused at admission, so a fixed non-root user (65532) cannot run
// there.
const (
	UIDRangeAnnotation           = "openshift.io/sa.scc.uid-range"
	SupplementalGroupsAnnotation = "openshift.io/sa.scc.supplemental-groups"
)

// NamespaceIDs returns the non-root user and group OpenShift lets a namespace's pods use, as
// its restricted SCC picks them: the first user ID of the uid-range annotation, and the first
// group of the supplemental-groups annotation (else that same user ID). Both are nil when the
// namespace has no such annotations (not OpenShift, or an older cluster).
func NamespaceIDs(annotations map[string]string) (user, group *int64, err error) {
	if v, ok := annotations[UIDRangeAnnotation]; ok {
		if user, err = firstOfRange(v); err != nil {
			return nil, nil, fmt.Errorf("annotation %s: %w", UIDRangeAnnotation, err)
		}
		group = user
	}
	if v, ok := annotations[SupplementalGroupsAnnotation]; ok {
		if group, err = firstOfRange(v); err != nil {
			return nil, nil, fmt.Errorf("annotation %s: %w", SupplementalGroupsAnnotation, err)
		}
	}
	return user, group, nil
}

// firstOfRange reads the first ID of OpenShift's range notation: "first/size" or "first-last",
// several separated by commas (the first range counts).
func firstOfRange(v string) (*int64, error) {
	first, _, _ := strings.Cut(strings.TrimSpace(v), ",")
	start, rest, found := strings.Cut(first, "/")
	if !found {
		start, rest, found = strings.Cut(first, "-")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(start), 10, 64)
	if err != nil || !found || n <= 0 {
		return nil, fmt.Errorf("%q is not a range such as 1000650000/10000", v)
	}
	if size, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64); err != nil || size <= 0 {
		return nil, fmt.Errorf("%q is not a range such as 1000650000/10000", v)
	}
	return &n, nil
}
