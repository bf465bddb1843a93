package clustercache

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// Lookup reads the MigCluster ref names, in namespace when the ref names none. It returns nil
// without an error when the ref is unset or the MigCluster does not exist: callers report
// that in a condition (InvalidSourceClusterRef and the like).
func Lookup(ctx context.Context, reader client.Reader, ref *corev1.ObjectReference, namespace string) (*migv1.MigCluster, error) {
	if ref == nil || ref.Name == "" {
		return nil, nil
	}
	ns := ref.Namespace
	if ns == "" {
		ns = namespace
	}
	c := &migv1.MigCluster{}
	if err := reader.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, c); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get MigCluster %s/%s: %w", ns, ref.Name, err)
	}
	return c, nil
}

// Ready says whether the MigCluster exists and its controller reports it Ready.
func Ready(c *migv1.MigCluster) bool {
	return c != nil && conditions.IsTrue(c.Status.Conditions, migv1.Ready)
}
