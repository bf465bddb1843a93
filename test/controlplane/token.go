package controlplane

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TokenLifetime is how long minted tokens stay valid (the API server may shorten it).
const TokenLifetime int64 = 24 * 3600

// MintToken ensures ServiceAccount namespace/name exists (creating the namespace too), binds
// it to clusterRole when one is given, and returns a bearer token for it from the
// TokenRequest API, as `kubectl create token` would.
func (cp *ControlPlane) MintToken(ctx context.Context, namespace, name, clusterRole string) (string, error) {
	ctx, cancel := ctxTimeout(ctx)
	defer cancel()
	if err := createIfMissing(ctx, cp, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return "", err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if err := createIfMissing(ctx, cp, sa); err != nil {
		return "", err
	}
	if clusterRole != "" {
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%s-%s", namespace, name, clusterRole)},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}},
		}
		if err := createIfMissing(ctx, cp, binding); err != nil {
			return "", err
		}
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(TokenLifetime)}}
	resp, err := cp.Clientset.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("request token for %s/%s on %q: %w", namespace, name, cp.Name, err)
	}
	return resp.Status.Token, nil
}

func createIfMissing(ctx context.Context, cp *ControlPlane, obj client.Object) error {
	if err := cp.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create %T %s on %q: %w", obj, obj.GetName(), cp.Name, err)
	}
	return nil
}
