package clustercache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/secretref"
)

// Errors returned by AccessFor. Callers turn them into MigCluster conditions.
var (
	ErrURLNotSet          = errors.New("spec.url is required for a remote cluster")
	ErrURLMalformed       = errors.New("spec.url is not a valid URL")
	ErrURLScheme          = errors.New("spec.url must use http or https")
	ErrSecretRefNotSet    = errors.New("spec.serviceAccountSecretRef is required for a remote cluster")
	ErrSecretNotFound     = errors.New("the serviceAccountSecretRef Secret does not exist")
	ErrTokenKeyNotFound   = errors.New("the Secret has no saToken key")
	ErrTokenEmpty         = errors.New("the Secret's saToken key is empty")
	ErrSecretRefNamespace = errors.New("spec.serviceAccountSecretRef must name a namespace and a name")
	// ErrSecretNamespaceNotAllowed wraps a *secretref.NamespaceError: the Secret was not read.
	ErrSecretNamespaceNotAllowed = errors.New("the serviceAccountSecretRef names a namespace it may not")
)

// Access is what it takes to reach a remote cluster. It holds a secret token: never log it.
type Access struct {
	URL      string
	Token    string
	CAData   []byte
	Insecure bool
}

// fingerprint identifies the access without revealing the token.
func (a Access) fingerprint() string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(a.URL), []byte(a.Token), a.CAData, []byte(fmt.Sprint(a.Insecure))} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SecretKey returns the namespace/name of the cluster's token Secret (the namespace defaults
// to the MigCluster's), or false when no Secret is referenced.
func SecretKey(cluster *migv1.MigCluster) (types.NamespacedName, bool) {
	ref := cluster.Spec.ServiceAccountSecretRef
	if ref == nil || ref.Name == "" {
		return types.NamespacedName{}, false
	}
	ns := ref.Namespace
	if ns == "" {
		ns = cluster.Namespace
	}
	return types.NamespacedName{Namespace: ns, Name: ref.Name}, true
}

// ValidateURL checks a remote cluster's spec.url.
func ValidateURL(raw string) error {
	if raw == "" {
		return ErrURLNotSet
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ErrURLMalformed
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return ErrURLScheme
	}
	return nil
}

// AccessFor reads what it takes to reach a remote MigCluster. reader must see Secrets (the
// operator uses an uncached reader, so Secrets are not cached in memory). A token Secret
// outside the namespaces secretref allows is never read (ErrSecretNamespaceNotAllowed).
func AccessFor(ctx context.Context, reader client.Reader, cluster *migv1.MigCluster) (Access, error) {
	if err := ValidateURL(cluster.Spec.URL); err != nil {
		return Access{}, err
	}
	key, ok := SecretKey(cluster)
	if !ok {
		return Access{}, ErrSecretRefNotSet
	}
	if err := secretref.Check(key, cluster.Namespace); err != nil {
		return Access{}, fmt.Errorf("%w: %w", ErrSecretNamespaceNotAllowed, err)
	}
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return Access{}, ErrSecretNotFound
		}
		return Access{}, fmt.Errorf("read Secret %s: %w", key, err)
	}
	token, found := secret.Data[migv1.SaTokenKey]
	switch {
	case !found:
		return Access{}, ErrTokenKeyNotFound
	case len(strings.TrimSpace(string(token))) == 0:
		return Access{}, ErrTokenEmpty
	}
	return Access{
		URL:      cluster.Spec.URL,
		Token:    strings.TrimSpace(string(token)),
		CAData:   cluster.Spec.CABundle,
		Insecure: cluster.Spec.Insecure,
	}, nil
}
