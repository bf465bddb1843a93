package transfer

import (
	"strings"
	"testing"
)

// TestParseProxyKeepsThePasswordOutOfErrors: the error of a malformed stunnel_tcp_proxy ends
// up in the DVM's status, its conditions and the migration's events.
func TestParseProxyKeepsThePasswordOutOfErrors(t *testing.T) {
	for _, raw := range []string{
		"http://u:p4ss@proxy:31a28",
		"http://u:p4ss@pro xy:3128",
		"http://u:p4ss@proxy",
		"http://u:p4ss@[::1:3128",
		"ftp://u:p4ss@proxy:3128",
		"http://u:p4ss@proxy:3128/%zz",
		"http://u:p4ss%0A@proxy:3128",
	} {
		_, err := ParseProxy(raw)
		if err == nil {
			t.Errorf("ParseProxy(%q) accepted it", raw)
			continue
		}
		if strings.Contains(err.Error(), "p4ss") {
			t.Errorf("ParseProxy(%q): the password is in the error %q", raw, err)
		}
	}
}

// TestParseProxyRefusesControlCharacters: a percent-encoded CR, LF or NUL in the proxy's user,
// password or host would end its line of the client's stunnel configuration and add options
// (an exec line runs a program in the client pod).
func TestParseProxyRefusesControlCharacters(t *testing.T) {
	for _, raw := range []string{
		"http://u:p%0Aexec%20=%20/bin/sh@proxy:3128",
		"http://u:p%0D%0Aexec=/bin/sh@proxy:3128",
		"http://u%0Aexec=/bin/sh:p@proxy:3128",
		"http://u:p%00x@proxy:3128",
		"http://u:p%1Bx@proxy:3128",
		"http://u:p%7Fx@proxy:3128",
		"http://u:p@proxy%0Aexec:3128",
	} {
		p, err := ParseProxy(raw)
		if err == nil {
			t.Errorf("ParseProxy(%q) accepted %+v", raw, p)
		}
	}
}
