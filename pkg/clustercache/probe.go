package clustercache

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ErrUnauthorized says the API server rejected the token (HTTP 401).
var ErrUnauthorized = errors.New("the API server rejected the service account token (401 Unauthorized)")

// ErrUnknownAuthority says the API server's certificate is not signed by a trusted CA.
var ErrUnknownAuthority = errors.New("the API server's certificate is signed by an unknown authority; set spec.caBundle to the cluster's CA, or spec.insecure to true")

// ProbeConnection makes a real request (GET /version) to the cluster within RequestTimeout
// and returns its Kubernetes version. It maps a rejected token to ErrUnauthorized and an
// untrusted certificate to ErrUnknownAuthority.
func ProbeConnection(ctx context.Context, cfg *rest.Config) (string, error) {
	cs, err := clientsetFor(cfg)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return "", Classify(err)
	}
	var info struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("decode /version: %w", err)
	}
	return info.GitVersion, nil
}

func clientsetFor(cfg *rest.Config) (*kubernetes.Clientset, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build clientset: %w", err)
	}
	return cs, nil
}

// Classify maps a rejected token to ErrUnauthorized and an untrusted certificate to
// ErrUnknownAuthority; other errors are returned as they are.
func Classify(err error) error {
	var unknownAuthority x509.UnknownAuthorityError
	switch {
	case apierrors.IsUnauthorized(err):
		return ErrUnauthorized
	case errors.As(err, &unknownAuthority):
		return fmt.Errorf("%w: %w", ErrUnknownAuthority, err)
	default:
		return err
	}
}
