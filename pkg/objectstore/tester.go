package objectstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// ErrLiveTestNotSupported says that no live test exists for a provider here. It is not a
// failure of the storage: callers report that the bucket was not tested and carry on.
var ErrLiveTestNotSupported = errors.New("live test not supported here")

// FailureKind classifies a failed live test.
type FailureKind string

// Kinds of live test failures.
const (
	// FailureAccessDenied: the store rejected the credentials or their permissions.
	FailureAccessDenied FailureKind = "AccessDenied"
	// FailureBucketNotFound: the bucket does not exist.
	FailureBucketNotFound FailureKind = "BucketNotFound"
	// FailureWrongRegion: the bucket lives in another region than the one configured.
	FailureWrongRegion FailureKind = "WrongRegion"
	// FailureUnreachable: no answer from the endpoint (refused, unresolvable, timed out).
	FailureUnreachable FailureKind = "Unreachable"
	// FailureUntrustedCertificate: the endpoint's TLS certificate could not be verified.
	FailureUntrustedCertificate FailureKind = "UntrustedCertificate"
	// FailureDataMismatch: the object read back differs from the one written.
	FailureDataMismatch FailureKind = "DataMismatch"
	// FailureInvalidSettings: the settings or credentials cannot even be used for a test.
	FailureInvalidSettings FailureKind = "InvalidSettings"
	// FailureRefused: the store answered the request with another error.
	FailureRefused FailureKind = "Refused"
)

// TestError is a failed live test. Message is fit for a condition or an event: it never holds
// credentials and does not change between two runs of the same failure (no random object
// names, no request IDs), so a persisting failure is not reported as a new one each time.
type TestError struct {
	// Kind classifies the failure.
	Kind FailureKind
	// Message explains the failure and, where possible, what to fix.
	Message string
	// Err is the underlying error, for errors.Is/As; it may hold details unfit for users.
	Err error
}

// Error returns Message.
func (e *TestError) Error() string { return e.Message }

// Unwrap returns the underlying error.
func (e *TestError) Unwrap() error { return e.Err }

// Tester runs live tests of object storage. The zero value is ready to use.
type Tester struct {
	// RequestTimeout bounds each request; DefaultRequestTimeout when zero.
	RequestTimeout time.Duration
	// Proxy picks the proxy of each request (the MigrationController's proxy settings); nil
	// uses the operator's environment (HTTPS_PROXY...), as Velero does.
	Proxy func(*http.Request) (*url.URL, error)
}

// TestBucket proves that the bucket of cfg can be written, read back and cleaned with the
// credentials in creds (the data of the credentials Secret). It returns nil on success, a
// *TestError when the storage failed the test, an error wrapping ErrLiveTestNotSupported for
// providers without a live test here (gcp, azure), or another error when ctx ended.
func (t Tester) TestBucket(ctx context.Context, provider string, cfg *migv1.BackupStorageConfig, creds map[string][]byte) error {
	timeout := t.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	switch provider {
	case migv1.ProviderAWS:
		return testS3(ctx, cfg, creds, timeout, t.Proxy)
	case migv1.ProviderGCP, migv1.ProviderAzure:
		return fmt.Errorf("%w: provider %s", ErrLiveTestNotSupported, provider)
	}
	return &TestError{Kind: FailureInvalidSettings, Message: unsupported(provider)}
}
