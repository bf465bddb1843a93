package objectstore

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzParseEnvFile feeds arbitrary Azure credentials files to the parser: it must never panic,
// and every variable it returns must have a non-empty name without '=', whitespace or control characters.
func FuzzParseEnvFile(f *testing.F) {
	f.Add([]byte("AZURE_TENANT_ID=t\nAZURE_CLIENT_ID=c\n# comment\n\nAZURE_CLIENT_SECRET=s=with=equals\n"))
	f.Add([]byte("export AZURE_SUBSCRIPTION_ID=\"quoted\"\r\n=novalue\nNOEQUALS\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for name := range ParseEnvFile(raw) {
			if name == "" || strings.ContainsAny(name, "=") || strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
				t.Fatalf("invalid variable name %q from %q", name, raw)
			}
		}
	})
}
