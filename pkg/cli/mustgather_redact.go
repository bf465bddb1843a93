package cli

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

// Redaction for must-gather. A must-gather archive is attached to bug reports and support
// cases, so it must never carry a credential: every object goes through redactObject before
// it is serialized, every log through scrubText, and every file (objects and logs alike)
// through a secretScrubber before it is written. The patterns of scrubText are applied to an
// object's string values, not to its YAML, where they would take keys such as
// automountServiceAccountToken for credentials. The functions here are pure so that the
// rules can be tested as tables.

// lastAppliedAnnotation is kubectl's copy of the applied manifest, which for a Secret (or an
// object applied from a file that embeds one) holds the values in clear.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// minKnownSecretLen is the shortest Secret value replaced wherever it appears: shorter ones
// ("true", "1", "us-east") would blank out ordinary words all over the archive.
const minKnownSecretLen = 8

// sensitiveWords mark a name (an env var, a config key) whose value is presumed a credential.
var sensitiveWords = []string{"TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"}

// Patterns of credentials in free text (logs, event messages, annotations). Each keeps what
// tells the reader what was there (the key, "Bearer") and replaces only the value.
var (
	bearerRe = regexp.MustCompile(`(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]+=*`)
	// JWTs (ServiceAccount tokens) and base64 JSON in general (a .dockerconfigjson) start
	// with eyJ, the encoding of `{"`.
	jwtRe = regexp.MustCompile(`eyJ[A-Za-z0-9_\-+/=]{8,}(?:\.[A-Za-z0-9_\-+/=]*){0,2}`)
	// key=value and "key": "value" forms of well-known credential names, as in an AWS
	// credentials file or a JSON log line. Only blanks may surround the separator: across a
	// line break the "value" would be the next YAML key.
	keyValueRe = regexp.MustCompile(`(?i)((?:aws_secret_access_key|aws_access_key_id|aws_session_token|secret[_-]?access[_-]?key|access[_-]?key[_-]?id|secret[_-]?key|client[_-]?secret|api[_-]?key|password|passwd|token)["']?[ \t]*[=:][ \t]*["']?)([^\s"'<>&,;{}\[\]]{4,})`)
	// The password of a URL's user information (an HTTPS proxy with credentials).
	urlPasswordRe = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@"']+:)[^\s/@"']+@`)
	privateKeyRe  = regexp.MustCompile(`-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`)
)

// redacted is what replaces a value: its size tells a support engineer whether it was empty
// or truncated, which is often the bug, without telling what it was.
func redacted(n int) string { return fmt.Sprintf("<redacted %d bytes>", n) }

// sensitiveName reports whether name (an env var or config key) presumably holds a credential.
func sensitiveName(name string) bool {
	upper := strings.ToUpper(name)
	for _, w := range sensitiveWords {
		if strings.Contains(upper, w) {
			return true
		}
	}
	return false
}

// scrubText replaces what looks like a credential in free text.
func scrubText(s string) string {
	s = privateKeyRe.ReplaceAllString(s, "-----BEGIN ${1}PRIVATE KEY----- <redacted> -----END ${1}PRIVATE KEY-----")
	s = bearerRe.ReplaceAllString(s, "${1}<redacted>")
	s = jwtRe.ReplaceAllString(s, "<redacted token>")
	s = keyValueRe.ReplaceAllStringFunc(s, redactKeyValue)
	return urlPasswordRe.ReplaceAllString(s, "${1}<redacted>@")
}

// redactKeyValue redacts the value of one keyValueRe match, unless it is a literal (a
// boolean, null) that no credential is: "automountServiceAccountToken: false" stays.
func redactKeyValue(match string) string {
	m := keyValueRe.FindStringSubmatch(match)
	switch strings.ToLower(m[2]) {
	case "true", "false", "null", "none":
		return match
	}
	return m[1] + "<redacted>"
}

// redactObject returns a copy of obj (an unstructured object) fit for the archive: a
// Secret's values replaced by their sizes, kubectl's last-applied annotation dropped to its
// size, credential-named env vars and Velero location config redacted, and every string
// scrubbed of credential-looking text. obj is not modified.
func redactObject(obj map[string]any) map[string]any {
	out := runtime.DeepCopyJSON(obj)
	kind, _ := out["kind"].(string)
	switch kind {
	case "Secret":
		redactSecretValues(out)
	case "BackupStorageLocation", "VolumeSnapshotLocation":
		redactSensitiveKeys(nestedMap(out, "spec", "config"))
	}
	redactLastApplied(out)
	return walkStrings(redactNameValues(out).(map[string]any))
}

// redactSecretValues replaces data (base64) and stringData values by their decoded sizes,
// keeping the keys: which keys a Secret has is what a diagnosis needs.
func redactSecretValues(secret map[string]any) {
	if data, ok := secret["data"].(map[string]any); ok {
		for k, v := range data {
			s, _ := v.(string)
			data[k] = redacted(base64DecodedLen(s))
		}
	}
	if data, ok := secret["stringData"].(map[string]any); ok {
		for k, v := range data {
			s, _ := v.(string)
			data[k] = redacted(len(s))
		}
	}
}

// base64DecodedLen is the size of the value s encodes (its own length if it is not base64).
func base64DecodedLen(s string) int {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return len(b)
	}
	return len(s)
}

// redactLastApplied replaces kubectl's last-applied annotation by its size.
func redactLastApplied(obj map[string]any) {
	ann := nestedMap(obj, "metadata", "annotations")
	if v, ok := ann[lastAppliedAnnotation].(string); ok {
		ann[lastAppliedAnnotation] = redacted(len(v))
	}
}

// redactSensitiveKeys redacts the string values of m whose key names a credential.
func redactSensitiveKeys(m map[string]any) {
	for k, v := range m {
		if s, ok := v.(string); ok && sensitiveName(k) {
			m[k] = redacted(len(s))
		}
	}
}

// redactNameValues redacts, anywhere in v, the value of a {name, value} pair whose name is a
// credential's: env vars of pods, Jobs and Deployments, written as literals.
func redactNameValues(v any) any {
	switch t := v.(type) {
	case map[string]any:
		name, isName := t["name"].(string)
		if value, isValue := t["value"].(string); isName && isValue && sensitiveName(name) {
			t["value"] = redacted(len(value))
		}
		for k, child := range t {
			t[k] = redactNameValues(child)
		}
	case []any:
		for i, child := range t {
			t[i] = redactNameValues(child)
		}
	}
	return v
}

// walkStrings applies scrubText to every string value of obj.
func walkStrings(obj map[string]any) map[string]any {
	var walk func(any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case string:
			return scrubText(t)
		case map[string]any:
			for k, child := range t {
				t[k] = walk(child)
			}
		case []any:
			for i, child := range t {
				t[i] = walk(child)
			}
		}
		return v
	}
	return walk(obj).(map[string]any)
}

// nestedMap returns the map at path in obj, or nil.
func nestedMap(obj map[string]any, path ...string) map[string]any {
	cur := obj
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

// secretScrubber replaces the values of the Secrets read during a gather wherever they
// appear, in clear or base64: the patterns of scrubText cannot recognise an S3 secret key a
// log line prints, but the Secret that holds it is known.
type secretScrubber struct {
	values map[string]bool
	// sorted are the values, longest first (nil when a value was added since).
	sorted []string
}

func newSecretScrubber() *secretScrubber {
	return &secretScrubber{values: map[string]bool{}}
}

// addSecret registers the values of a Secret (unstructured, data in base64). Public values
// of ServiceAccount token and TLS Secrets (the namespace name, certificates) are skipped:
// they appear legitimately throughout the archive.
func (s *secretScrubber) addSecret(secret map[string]any) {
	data, _ := secret["data"].(map[string]any)
	for k, v := range data {
		enc, _ := v.(string)
		if raw, err := base64.StdEncoding.DecodeString(enc); err == nil && !publicSecretKey(k) {
			s.add(string(raw))
		}
	}
	strData, _ := secret["stringData"].(map[string]any)
	for k, v := range strData {
		if str, ok := v.(string); ok && !publicSecretKey(k) {
			s.add(str)
		}
	}
}

// publicSecretKey reports whether a Secret key holds a value meant to be public.
func publicSecretKey(key string) bool {
	return key == "namespace" || strings.HasSuffix(key, ".crt")
}

// add registers one value, and its trimmed and base64 forms (a token file often ends with
// a newline that the consumer trims).
func (s *secretScrubber) add(v string) {
	for _, form := range []string{v, strings.TrimSpace(v)} {
		if len(form) < minKnownSecretLen {
			continue
		}
		s.values[form] = true
		s.values[base64.StdEncoding.EncodeToString([]byte(form))] = true
		s.sorted = nil
	}
}

// scrub returns data with every known value replaced. The longest values go first, so that
// a value containing another is replaced whole.
func (s *secretScrubber) scrub(data []byte) []byte {
	if s.sorted == nil {
		for v := range s.values {
			s.sorted = append(s.sorted, v)
		}
		sort.Slice(s.sorted, func(i, j int) bool { return len(s.sorted[i]) > len(s.sorted[j]) })
	}
	for _, v := range s.sorted {
		data = bytes.ReplaceAll(data, []byte(v), []byte("<redacted>"))
	}
	return data
}
