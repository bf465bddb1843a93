package objectstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/smithy-go"
)

// S3 error codes the live test explains (see the S3 API reference, "Error responses"), plus
// versitygw's answer to an unknown access key (XAdminUserNotFound, with status 404).
var (
	accessDeniedCodes = []string{"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden",
		"AllAccessDisabled", "InvalidToken", "ExpiredToken", "XAdminUserNotFound"}
	// AWS answers AuthorizationHeaderMalformed when a request is signed for another region.
	wrongRegionCodes = []string{"PermanentRedirect", "IllegalLocationConstraintException", "AuthorizationHeaderMalformed"}
)

// classify turns an error of one request into a *TestError. op says what the request did
// ("write", "read back", "delete").
func (p *probe) classify(ctx context.Context, op string, err error) error {
	e := p.endpoint
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &TestError{Kind: FailureUnreachable, Err: err,
			Message: fmt.Sprintf("cannot reach %s: no answer within %s", e.display(), p.timeout)}
	case errors.Is(err, context.Canceled):
		// The caller gave up (the operator is stopping): not a verdict on the storage.
		return fmt.Errorf("test bucket %s at %s: %w", e.bucket, e.display(), err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return p.classifyAPIError(op, apiErr, err)
	}
	if cause := certificateError(err); cause != nil {
		return &TestError{Kind: FailureUntrustedCertificate, Err: err, Message: fmt.Sprintf(
			"cannot verify the TLS certificate of %s (%v): set backupStorageConfig.s3CustomCABundle to the CA that signed it, "+
				"or backupStorageConfig.insecure to true", e.display(), cause)}
	}
	return &TestError{Kind: FailureUnreachable, Err: err, Message: fmt.Sprintf("cannot reach %s: %s", e.display(), networkCause(err))}
}

func (p *probe) classifyAPIError(op string, apiErr smithy.APIError, err error) error {
	e := p.endpoint
	code := apiErr.ErrorCode()
	switch {
	case code == "NoSuchBucket":
		return &TestError{Kind: FailureBucketNotFound, Err: err,
			Message: fmt.Sprintf("bucket %s does not exist at %s", e.bucket, e.display())}
	case slices.Contains(accessDeniedCodes, code) || httpStatus(err) == http.StatusForbidden:
		// Other stores may use other codes for a refused key, but answer 403.
		msg := fmt.Sprintf("access denied: check aws-access-key-id/aws-secret-access-key (the store answered %s when asked to %s a test object in bucket %s at %s)",
			code, op, e.bucket, e.display())
		if code == "AccessDenied" {
			msg += "; the key may also lack permission to write, read and delete objects in the bucket"
		}
		if p.sigV1 && code == "SignatureDoesNotMatch" {
			msg += `; note that the test signs with signature version 4: a store that accepts only awsSignatureVersion "1" cannot be tested`
		}
		return &TestError{Kind: FailureAccessDenied, Err: err, Message: msg}
	case slices.Contains(wrongRegionCodes, code):
		return &TestError{Kind: FailureWrongRegion, Err: err, Message: fmt.Sprintf(
			"bucket %s is not in region %s at %s (%s): set backupStorageConfig.awsRegion to the bucket's region", e.bucket, e.region, e.display(), code)}
	}
	detail := code
	if m := apiErr.ErrorMessage(); m != "" {
		detail += ": " + m
	}
	return &TestError{Kind: FailureRefused, Err: err, Message: fmt.Sprintf(
		"the store at %s refused to %s a test object in bucket %s: %s", e.display(), op, e.bucket, detail)}
}

// httpStatus returns the HTTP status of the store's answer inside err, or 0.
func httpStatus(err error) int {
	var withStatus interface{ HTTPStatusCode() int }
	if errors.As(err, &withStatus) {
		return withStatus.HTTPStatusCode()
	}
	return 0
}

// certificateError returns the TLS verification error inside err, or nil.
func certificateError(err error) error {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return unknown
	case errors.As(err, &hostname):
		return hostname
	case errors.As(err, &invalid):
		return invalid
	case errors.As(err, &verify):
		return verify
	}
	return nil
}

// networkCause returns the most specific description of a transport error, without the
// request URL (which holds the random probe name and would make every message different).
func networkCause(err error) string {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var urlErr *url.Error
	switch {
	case errors.As(err, &opErr):
		return opErr.Error()
	case errors.As(err, &dnsErr):
		return dnsErr.Error()
	case errors.As(err, &urlErr):
		return urlErr.Err.Error()
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}
