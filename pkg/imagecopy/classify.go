package imagecopy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Reasons of a failed copy: stable CamelCase strings for condition reasons.
const (
	// ReasonUnreachable: the registry cannot be reached, or stopped answering (connection
	// refused, DNS, timeouts, a registry or proxy answering 502, 503 or 504). Retryable.
	ReasonUnreachable = "RegistryUnreachable"
	// ReasonTLS: the TLS handshake failed: the registry's certificate is not trusted (or does
	// not name the host), or the registry does not speak TLS. Not retryable.
	ReasonTLS = "RegistryTLSFailed"
	// ReasonAuthentication: the registry refused the credentials (401). Not retryable.
	ReasonAuthentication = "RegistryAuthenticationFailed"
	// ReasonForbidden: the credentials are valid but may not read or write the repository
	// (403, DENIED). Not retryable.
	ReasonForbidden = "RegistryAccessForbidden"
	// ReasonManifestUnknown: the source registry does not hold the image (MANIFEST_UNKNOWN,
	// NAME_UNKNOWN, or 404 reading a manifest): deleted or pruned. Not retryable.
	ReasonManifestUnknown = "ManifestUnknown"
	// ReasonQuota: the destination refused data over a quota or a size limit (DENIED with
	// quota wording, 413), or the registry limits the request rate (429, retryable).
	ReasonQuota = "RegistryQuotaExceeded"
	// ReasonFailed: anything else.
	ReasonFailed = "ImageCopyFailed"
)

// precedence orders reasons from the one that explains most (a registry nobody can reach
// fails every image) to the least.
var precedence = []string{ReasonTLS, ReasonAuthentication, ReasonUnreachable, ReasonQuota, ReasonForbidden, ReasonManifestUnknown, ReasonFailed}

// Failure is a classified copy failure.
type Failure struct {
	// Reason is one of the Reason constants.
	Reason string
	// Retryable says whether another attempt may succeed without anyone changing anything.
	Retryable bool
	// Message is for users: which registry, repository and image, what happened, what to check.
	Message string
}

// Classify explains err, an error of a copy. For several errors joined (one per failed
// image), it returns the failure whose reason explains most (see Failures for each). A nil
// error gives the zero Failure.
func Classify(err error) Failure {
	fs := Failures(err)
	if len(fs) == 0 {
		return Failure{}
	}
	best := fs[0]
	for _, f := range fs[1:] {
		if slices.Index(precedence, f.Reason) < slices.Index(precedence, best.Reason) {
			best = f
		}
	}
	return best
}

// Failures classifies each of the errors joined in err (errors.Join), in order.
func Failures(err error) []Failure {
	var out []Failure
	for _, e := range leaves(err) {
		out = append(out, classifyOne(e))
	}
	return out
}

// leaves flattens errors joined with errors.Join.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// classifyOne classifies one error; its message reads "<side> registry <host> (repository
// <repo>, image <digest>): <what it means>; <what was being done>: <the error>".
func classifyOne(err error) Failure {
	var e *Error
	if !errors.As(err, &e) {
		e = nil
	}
	reason, retryable, explain := kind(err, e)
	msg := "image copy: " + explain
	if e != nil {
		msg = string(e.Side) + " registry " + e.Registry
		var about []string
		if e.Repository != "" {
			about = append(about, "repository "+e.Repository)
		}
		if e.Image != "" {
			about = append(about, "image "+e.Image)
		}
		if len(about) > 0 {
			msg += " (" + strings.Join(about, ", ") + ")"
		}
		msg += ": " + explain + "; " + e.Op
		err = e.Err
	}
	detail := err.Error()
	var terr *transport.Error
	if errors.As(err, &terr) {
		// Its own text starts with the request's method and URL, which the message names
		// already.
		detail = httpDetail(terr)
	}
	if len(detail) > 400 {
		detail = detail[:400] + "..."
	}
	return Failure{Reason: reason, Retryable: retryable, Message: msg + ": " + detail}
}

// httpDetail is a registry's error answer: its OCI error codes and messages, or its status.
func httpDetail(terr *transport.Error) string {
	if len(terr.Errors) == 0 {
		return fmt.Sprintf("HTTP %d %s", terr.StatusCode, http.StatusText(terr.StatusCode))
	}
	var parts []string
	for _, d := range terr.Errors {
		parts = append(parts, string(d.Code)+": "+d.Message)
	}
	return strings.Join(parts, "; ")
}

// kind returns the reason of err, whether it is retryable, and its explanation for users.
func kind(err error, e *Error) (string, bool, string) {
	side := Side("")
	st := stagePing
	if e != nil {
		side, st = e.Side, e.stage
	}
	switch {
	case errors.Is(err, errStalled):
		return ReasonUnreachable, true, "stopped sending or receiving data"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return ReasonUnreachable, true, "did not answer in time"
	case errors.Is(err, context.Canceled):
		return ReasonFailed, true, "the copy was cancelled"
	case isTLS(err):
		return ReasonTLS, false, "failed the TLS handshake (is its certificate signed by a CA in the MigCluster's caBundle, " +
			"and does it name the host? insecure: true skips the verification)"
	case errors.Is(err, errDigestMismatch):
		return ReasonFailed, false, "served content that does not match its digest"
	case errors.Is(err, errUnsupported):
		return ReasonFailed, false, "holds an image of a kind that cannot be copied"
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return httpKind(terr, side, st)
	}
	if isNetwork(err) {
		return ReasonUnreachable, true, "cannot be reached (check its address, network policies, firewalls and the proxy)"
	}
	// go-containerregistry reports a failed handshake over HTTPS and HTTP as one error
	// without types, and net/http an HTTP answer to a TLS hello as a plain string: read
	// their words.
	text := err.Error()
	switch {
	case strings.Contains(text, "server gave HTTP response to HTTPS client"):
		return ReasonTLS, false, "answered in plain HTTP where TLS was expected (is the registry's address right?)"
	case strings.Contains(text, "x509: ") || strings.Contains(text, "tls: "):
		return ReasonTLS, false, "failed the TLS handshake"
	case containsAny(text, "connection refused", "no such host", "i/o timeout", "no route to host", "network is unreachable", "connection reset"):
		return ReasonUnreachable, true, "cannot be reached"
	}
	return ReasonFailed, false, "failed"
}

// httpKind classifies a registry's HTTP error by its status and OCI error codes.
func httpKind(terr *transport.Error, side Side, st stage) (string, bool, string) {
	has := func(code transport.ErrorCode) bool {
		return slices.ContainsFunc(terr.Errors, func(d transport.Diagnostic) bool { return d.Code == code })
	}
	status := terr.StatusCode
	text := strings.ToLower(terr.Error())
	denied := status == http.StatusForbidden || has(transport.DeniedErrorCode)
	switch {
	case status == http.StatusUnauthorized || has(transport.UnauthorizedErrorCode):
		return ReasonAuthentication, false, "refused the credentials (the MigCluster's service account token)"
	case status == http.StatusTooManyRequests || has(transport.TooManyRequestsErrorCode):
		return ReasonQuota, true, "is limiting the rate of requests"
	case status == http.StatusRequestEntityTooLarge:
		return ReasonQuota, false, "refused the data as too large"
	case denied && containsAny(text, "quota", "exceeded", "exceeds", "too large", "storage limit"):
		return ReasonQuota, false, "refused the data over a quota (raise the project's image quota or free space)"
	case denied && side == Destination:
		return ReasonForbidden, false, "denied access to the repository (may the MigCluster's service account push images to the namespace?)"
	case denied:
		return ReasonForbidden, false, "denied access to the repository (may the MigCluster's service account pull images from the namespace?)"
	case has(transport.ManifestUnknownErrorCode) && side == Source,
		side == Source && st == stageReadManifest && (has(transport.NameUnknownErrorCode) || status == http.StatusNotFound):
		return ReasonManifestUnknown, false, "does not hold the image (deleted or pruned since the ImageStream recorded it)"
	case side == Source && has(transport.BlobUnknownErrorCode):
		return ReasonFailed, false, "lacks a blob of the image (deleted or pruned)"
	case status == http.StatusRequestTimeout || status == http.StatusBadGateway || status == http.StatusServiceUnavailable ||
		status == http.StatusGatewayTimeout || has(transport.UnavailableErrorCode):
		return ReasonUnreachable, true, "is unavailable"
	case status >= 500:
		return ReasonFailed, true, "failed with an internal error"
	case status == http.StatusBadRequest && strings.Contains(text, "http request to an https server"):
		return ReasonTLS, false, "speaks TLS where plain HTTP was configured"
	}
	return ReasonFailed, false, "refused the request"
}

// isTimeout is a network timeout (dial, TLS handshake, response headers).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isTLS is a certificate that is not trusted or does not match, or a failed handshake.
func isTLS(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		record           tls.RecordHeaderError
		alert            tls.AlertError
		systemRoots      x509.SystemRootsError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verification) || errors.As(err, &record) || errors.As(err, &alert) || errors.As(err, &systemRoots)
}

// isNetwork is a failure to connect or a connection lost.
func isNetwork(err error) bool {
	var (
		op  *net.OpError
		dns *net.DNSError
	)
	return errors.As(err, &op) || errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func containsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}
