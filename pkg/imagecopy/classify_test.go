package imagecopy

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// regErr is a registry's error answer with one OCI error code (none when code is empty).
func regErr(status int, code transport.ErrorCode, message string) *transport.Error {
	e := &transport.Error{StatusCode: status}
	if code != "" {
		e.Errors = []transport.Diagnostic{{Code: code, Message: message}}
	}
	return e
}

func TestClassify(t *testing.T) {
	src := func(st stage, err error) error {
		return &Error{Side: Source, Registry: "registry.src:5000", Repository: "ns/app", Image: "sha256:aa", Op: "read the manifest", Err: err, stage: st}
	}
	dst := func(st stage, err error) error {
		return &Error{Side: Destination, Registry: "registry.dst", Repository: "ns2/app", Op: "copy blob sha256:bb", Err: err, stage: st}
	}
	dial := &url.Error{Op: "Get", URL: "https://registry.dst/v2/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	for _, tc := range []struct {
		name      string
		err       error
		reason    string
		retryable bool
		mentions  []string
	}{
		{"401 at the source", src(stageReadManifest, regErr(401, transport.UnauthorizedErrorCode, "authentication required")),
			ReasonAuthentication, false, []string{"source registry registry.src:5000", "repository ns/app", "image sha256:aa", "UNAUTHORIZED"}},
		{"401 from a HEAD (no body)", dst(stageBlob, regErr(401, "", "")), ReasonAuthentication, false, []string{"HTTP 401 Unauthorized"}},
		{"token service refuses", dst(stagePing, regErr(401, "", "")), ReasonAuthentication, false, []string{"destination registry registry.dst"}},
		{"403 pushing", dst(stageBlob, regErr(403, transport.DeniedErrorCode, "requested access to the resource is denied")),
			ReasonForbidden, false, []string{"push"}},
		{"403 pulling", src(stageReadManifest, regErr(403, "", "")), ReasonForbidden, false, []string{"pull"}},
		{"DENIED over quota", dst(stageBlob, regErr(403, transport.DeniedErrorCode, "exceeded quota: requested storage 2Gi, limit 1Gi")),
			ReasonQuota, false, []string{"quota"}},
		{"DENIED on blob upload with quota", dst(stageBlob, regErr(400, transport.DeniedErrorCode, "blob upload: project quota reached")),
			ReasonQuota, false, nil},
		{"413", dst(stageBlob, regErr(413, "", "")), ReasonQuota, false, []string{"too large"}},
		{"429", dst(stageBlob, regErr(429, transport.TooManyRequestsErrorCode, "slow down")), ReasonQuota, true, []string{"rate"}},
		{"MANIFEST_UNKNOWN", src(stageReadManifest, regErr(404, transport.ManifestUnknownErrorCode, "manifest unknown")),
			ReasonManifestUnknown, false, []string{"deleted or pruned"}},
		{"NAME_UNKNOWN", src(stageReadManifest, regErr(404, transport.NameUnknownErrorCode, "repository name not known")),
			ReasonManifestUnknown, false, nil},
		{"404 without body reading a manifest", src(stageReadManifest, regErr(404, "", "")), ReasonManifestUnknown, false, nil},
		{"blob gone at the source", src(stageBlob, regErr(404, transport.BlobUnknownErrorCode, "blob unknown")), ReasonFailed, false, []string{"lacks a blob"}},
		{"404 at the destination", dst(stageBlob, regErr(404, transport.NameUnknownErrorCode, "")), ReasonFailed, false, nil},
		{"503", dst(stageBlob, regErr(503, "", "")), ReasonUnreachable, true, []string{"unavailable"}},
		{"502 from a router", src(stageReadManifest, regErr(502, "", "")), ReasonUnreachable, true, nil},
		{"500", dst(stageWriteManifest, regErr(500, transport.UnknownErrorCode, "boom")), ReasonFailed, true, nil},
		{"400 manifest invalid", dst(stageWriteManifest, regErr(400, transport.ManifestInvalidErrorCode, "bad")), ReasonFailed, false, nil},
		{"connection refused", dst(stagePing, dial), ReasonUnreachable, true, []string{"cannot be reached", "connection refused"}},
		{"DNS", src(stagePing, &url.Error{Op: "Get", URL: "https://nowhere/v2/", Err: &net.DNSError{Err: "no such host", Name: "nowhere", IsNotFound: true}}),
			ReasonUnreachable, true, nil},
		{"timeout", dst(stagePing, &url.Error{Op: "Get", URL: "https://registry.dst/v2/", Err: context.DeadlineExceeded}),
			ReasonUnreachable, true, []string{"in time"}},
		{"stalled blob", src(stageBlob, fmt.Errorf("%w: %w", errStalled, context.Canceled)), ReasonUnreachable, true, []string{"stopped"}},
		{"connection cut mid-blob", src(stageBlob, &url.Error{Op: "Get", URL: "https://registry.src/v2/", Err: syscall.ECONNRESET}),
			ReasonUnreachable, true, nil},
		{"unknown authority", dst(stagePing, &url.Error{Op: "Get", URL: "https://registry.dst/v2/", Err: &tlsVerification{x509.UnknownAuthorityError{}}}),
			ReasonTLS, false, []string{"caBundle", "insecure"}},
		{"wrong host name", dst(stagePing, &url.Error{Op: "Get", URL: "https://registry.dst/v2/", Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "registry.dst"}}),
			ReasonTLS, false, nil},
		{"handshake errors of HTTPS and HTTP as text", dst(stageCheck, errors.New("Get \"https://10.0.0.1/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority; Get \"http://10.0.0.1/v2/\": refused")),
			ReasonTLS, false, nil},
		{"plain HTTP answering TLS", dst(stagePing, errors.New("http: server gave HTTP response to HTTPS client")), ReasonTLS, false, []string{"plain HTTP"}},
		{"digest mismatch", src(stageReadManifest, fmt.Errorf("%w: read sha256:cc", errDigestMismatch)), ReasonFailed, false, []string{"does not match"}},
		{"schema 1", src(stageReadManifest, fmt.Errorf("%w: schema 1", errUnsupported)), ReasonFailed, false, []string{"cannot be copied"}},
		{"cancelled", dst(stageBlob, context.Canceled), ReasonFailed, true, nil},
		{"not an Error of this package", regErr(401, "", ""), ReasonAuthentication, false, []string{"image copy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Classify(tc.err)
			if f.Reason != tc.reason || f.Retryable != tc.retryable {
				t.Fatalf("Classify = %+v, want %s (retryable %v)", f, tc.reason, tc.retryable)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(f.Message, m) {
					t.Errorf("message %q does not mention %q", f.Message, m)
				}
			}
		})
	}
}

// tlsVerification stands for crypto/tls's *CertificateVerificationError (which wraps the
// x509 error the same way).
type tlsVerification struct{ err error }

func (e *tlsVerification) Error() string {
	return "tls: failed to verify certificate: " + e.err.Error()
}
func (e *tlsVerification) Unwrap() error { return e.err }

func TestClassifyJoined(t *testing.T) {
	gone := &Error{Side: Source, Registry: "r", Repository: "ns/app", Image: "sha256:aa", Err: regErr(404, transport.ManifestUnknownErrorCode, ""), stage: stageReadManifest}
	down := &Error{Side: Destination, Registry: "r2", Err: regErr(503, "", ""), stage: stageBlob}
	err := errors.Join(gone, down)
	if f := Classify(err); f.Reason != ReasonUnreachable {
		t.Errorf("Classify = %+v, want the unreachable registry first", f)
	}
	fs := Failures(err)
	if len(fs) != 2 || fs[0].Reason != ReasonManifestUnknown || fs[1].Reason != ReasonUnreachable {
		t.Errorf("Failures = %+v, want one per error, in order", fs)
	}
	if f := Classify(nil); f != (Failure{}) {
		t.Errorf("Classify(nil) = %+v", f)
	}
	if !fatal(down) || fatal(gone) {
		t.Error("an unavailable destination dooms every image; a missing image only itself")
	}
}
