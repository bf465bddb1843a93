package secretref

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ConfigNamespace is where MTC's documentation puts the token and credentials Secrets.
const ConfigNamespace = "openshift-config"

// Allowed returns the namespaces a resource in namespace owner may reference Secrets in:
// its own and ConfigNamespace.
func Allowed(owner string) []string {
	if owner == ConfigNamespace {
		return []string{owner}
	}
	return []string{owner, ConfigNamespace}
}

// NamespaceError says a reference names a Secret in a namespace it may not.
type NamespaceError struct {
	// Key is the Secret the reference names.
	Key types.NamespacedName
	// Allowed are the namespaces it could name.
	Allowed []string
}

func (e *NamespaceError) Error() string {
	quoted := make([]string, len(e.Allowed))
	for i, ns := range e.Allowed {
		quoted[i] = fmt.Sprintf("%q", ns)
	}
	return fmt.Sprintf("the Secret %s is in namespace %q; a Secret reference may only name namespace %s, so it was not read",
		e.Key, e.Key.Namespace, strings.Join(quoted, " or "))
}

// Check returns a *NamespaceError when key is not in a namespace a resource in namespace
// owner may reference.
func Check(key types.NamespacedName, owner string) error {
	if key.Namespace == owner || key.Namespace == ConfigNamespace {
		return nil
	}
	return &NamespaceError{Key: key, Allowed: Allowed(owner)}
}

// Key returns the namespace/name a reference of a resource in namespace owner points at (the
// namespace defaults to owner), false when the reference names no Secret, and the error of
// Check.
func Key(ref *corev1.ObjectReference, owner string) (types.NamespacedName, bool, error) {
	if ref == nil || ref.Name == "" {
		return types.NamespacedName{}, false, nil
	}
	key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
	if key.Namespace == "" {
		key.Namespace = owner
	}
	return key, true, Check(key, owner)
}
