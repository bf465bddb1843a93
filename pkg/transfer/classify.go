package transfer

import (
	"fmt"
	"strconv"
	"strings"
)

// Kinds of transfer failure.
const (
	// FailureUnreachable: the client's stunnel could not reach the server's endpoint
	// (NetworkPolicy, firewall, proxy, wrong address).
	FailureUnreachable = "EndpointUnreachable"
	// FailureProxy: the HTTP CONNECT proxy of stunnel_tcp_proxy answered the client's CONNECT
	// with something other than 2xx: wrong or missing proxy credentials (407, or 401 from
	// tinyproxy), a port the proxy does not allow (403), or an endpoint the proxy cannot reach
	// (5xx).
	FailureProxy = "ProxyRefused"
	// FailureTLS: the TLS handshake failed: a certificate was refused on either side.
	FailureTLS = "TLSRefused"
	// FailureHandshakeCut: the server's end closed the connection in the middle of the TLS
	// handshake, with no alert: its pod went away or restarted (another attempt reaches the new
	// one), or a proxy on the way drops TLS (every attempt fails the same way).
	FailureHandshakeCut = "TLSHandshakeInterrupted"
	// FailureAuth: the rsync daemon refused the password or the module.
	FailureAuth = "RsyncAuthFailed"
	// FailureRsync: rsync itself failed; the exit code says how.
	FailureRsync = "RsyncFailed"
	// FailureKilled: the client was killed (signal, deleted pod, node loss).
	FailureKilled = "RsyncKilled"
	// FailureNothingMoved: rsync succeeded but saw nothing of a volume that holds data, or
	// ended without statistics: a success that cannot be trusted.
	FailureNothingMoved = "NothingMoved"
)

// Failure is a classified failed transfer attempt.
type Failure struct {
	Kind     string
	ExitCode int
	Message  string
}

// rsyncExitCodes are rsync's documented exit codes.
var rsyncExitCodes = map[int]string{
	1:  "syntax or usage error",
	2:  "protocol incompatibility",
	3:  "errors selecting input/output files or directories",
	4:  "requested action not supported",
	5:  "error starting the client-server protocol",
	6:  "daemon unable to append to its log file",
	10: "error in socket I/O",
	11: "error in file I/O",
	12: "error in the rsync protocol data stream",
	13: "errors with program diagnostics",
	14: "error in IPC code",
	20: "received SIGUSR1 or SIGINT",
	21: "some error returned by waitpid()",
	22: "error allocating core memory buffers",
	23: "partial transfer due to error",
	24: "partial transfer due to vanished source files",
	25: "the --max-delete limit stopped deletions",
	30: "timeout in data send/receive",
	35: "timeout waiting for daemon connection",
}

// unreachable and tlsRefused are what stunnel logs when it cannot connect, or when a
// handshake fails on either side.
var (
	unreachable = []string{"Connection refused", "No route to host", "Network is unreachable", "TIMEOUTconnect exceeded", "Connection timed out", "Error resolving", "Name or service not known", "Connection reset by peer"}
	tlsRefused  = []string{"certificate verify failed", "alert unknown ca", "alert bad certificate", "alert certificate required", "alert handshake failure", "peer did not return a certificate", "CERT: ", "wrong version number", "alert decrypt error"}
	// handshakeCut is OpenSSL's word for a peer that closed without an alert.
	handshakeCut = "unexpected eof while reading"
	// handshakeFailed is any other failed client handshake.
	handshakeFailed = "SSL_connect:"
)

// tlsRefusedMessage begins the message of every FailureTLS.
const tlsRefusedMessage = "TLS refused between the rsync client and server (certificates of another migration, or an intercepting proxy): "

// proxyRejected is what stunnel logs (at notice level) when the CONNECT proxy answers with a
// status other than 2xx. The status line itself is only logged at debug level, next to the
// Proxy-Authorization header, so the client configuration does not log it and the message
// cannot tell a refused password from a refused port.
const proxyRejected = "CONNECT request rejected"

// Classify explains a failed client run from its exit code and output (rsync's, then
// stunnel's log after StunnelLogMarker).
func Classify(exitCode int, out string) Failure {
	f := Failure{ExitCode: exitCode}
	stunnelLog := ""
	if _, after, ok := strings.Cut(out, StunnelLogMarker); ok {
		stunnelLog = after
	}
	if line := findLine(stunnelLog, proxyRejected); line != "" {
		f.Kind = FailureProxy
		f.Message = "HTTP CONNECT proxy (stunnel_tcp_proxy) refused the rsync client's connection to the endpoint: " +
			"check the proxy user name and password (proxy authentication), and that the proxy allows CONNECT to the endpoint's port and can reach it: " + line
		return f
	}
	if line := findLine(stunnelLog, tlsRefused...); line != "" {
		f.Kind = FailureTLS
		f.Message = tlsRefusedMessage + line
		return f
	}
	if line := findLine(stunnelLog, handshakeCut); line != "" {
		f.Kind = FailureHandshakeCut
		f.Message = "the rsync server's end closed the connection during the TLS handshake (its pod restarting or gone, or a proxy that drops TLS): " + line
		return f
	}
	if line := findLine(stunnelLog, unreachable...); line != "" {
		f.Kind = FailureUnreachable
		f.Message = "rsync endpoint unreachable from the source cluster (check NetworkPolicies, firewalls and stunnel_tcp_proxy): " + line
		return f
	}
	// After the network failures: "SSL_connect: Connection reset by peer" is the server going
	// away, not a refused certificate.
	if line := findLine(stunnelLog, handshakeFailed); line != "" {
		f.Kind = FailureTLS
		f.Message = tlsRefusedMessage + line
		return f
	}
	if line := findLine(out, "@ERROR: auth failed", "@ERROR: Unknown module", "@ERROR: access denied"); line != "" {
		f.Kind = FailureAuth
		f.Message = "rsync daemon refused the client: " + line
		return f
	}
	if exitCode > 128 {
		f.Kind = FailureKilled
		f.Message = fmt.Sprintf("rsync was killed by signal %d", exitCode-128)
		return f
	}
	f.Kind = FailureRsync
	desc, ok := rsyncExitCodes[exitCode]
	if !ok {
		desc = "unknown error"
	}
	if line := firstLine(out, "Permission denied (13)", "Operation not permitted (1)"); line != "" {
		f.Message = fmt.Sprintf("rsync exited with code %d (%s): permission denied on some files (%s). Non-root transfer pods "+
			"read and write as their runAsUser/runAsGroup: set those to the data's owner, or set runAsRoot on the migration and "+
			"label both namespaces pod-security.kubernetes.io/enforce=privileged", exitCode, desc, line)
		return f
	}
	f.Message = fmt.Sprintf("rsync exited with code %d (%s)", exitCode, desc)
	if line := findLine(out, "rsync error:", "rsync: "); line != "" {
		f.Message += ": " + line
	}
	return f
}

// firstLine returns the first line of text containing one of the needles, trimmed.
func firstLine(text string, needles ...string) string {
	for _, line := range strings.Split(text, "\n") {
		for _, n := range needles {
			if strings.Contains(line, n) {
				return strings.TrimSpace(line)
			}
		}
	}
	return ""
}

// findLine returns the last line of text containing one of the needles, trimmed.
func findLine(text string, needles ...string) string {
	lines := strings.Split(text, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		for _, n := range needles {
			if strings.Contains(lines[i], n) {
				line := strings.TrimSpace(lines[i])
				if len(line) > 300 {
					line = line[:300]
				}
				return line
			}
		}
	}
	return ""
}

// CheckSucceeded looks at the output of a client that exited 0 and returns a failure when
// the success cannot be trusted: rsync printed no statistics, or it considered nothing but
// the volume's root while the client's listing found more (a filter in rsync_opt_extras that
// excludes everything, say). A volume that is really empty passes.
func CheckSucceeded(out string) *Failure {
	stats, ok := ParseStats(out)
	if !ok {
		return &Failure{Kind: FailureNothingMoved, Message: "rsync exited 0 without its statistics, so the copy cannot be confirmed"}
	}
	entries, listed := sourceEntries(out)
	if listed && entries > 1 && stats.Files <= 1 {
		return &Failure{Kind: FailureNothingMoved, Message: fmt.Sprintf(
			"rsync copied nothing although the source volume holds %d files and directories (do rsync_opt_extras filters exclude them?)", entries-1)}
	}
	return nil
}

// sourceEntries reads the number after EntriesMarker.
func sourceEntries(out string) (int64, bool) {
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), EntriesMarker); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
