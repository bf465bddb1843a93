package transfer

import (
	"strings"
	"testing"
)

// The output of a client whose CONNECT proxy refused the password, as the client script
// prints it: rsync's error, then the tail of stunnel's log at notice level (stunnel 5.68
// against tinyproxy 1.11, which answers a wrong password with 401 and none with 407).
const proxyRefusedOutput = `rsync: [sender] safe_read failed to read 1 bytes: Connection reset by peer (104)
rsync error: error in rsync protocol data stream (code 12) at io.c(283) [sender=3.2.7]
` + StunnelLogMarker + `
2026.11.27 14:48:33 LOG5[0]: Service [stunnel] accepted connection from 127.0.0.1:56011
2026.11.27 14:48:33 LOG5[0]: s_connect: connected 10.0.0.17:8888
2026.11.27 14:48:33 LOG5[0]: Service [stunnel] connected remote server from 10.244.1.7:45232
2026.11.27 14:48:33 LOG3[0]: CONNECT request rejected
2026.11.27 14:48:33 LOG5[0]: Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket
`

func TestClassifyProxyRefusal(t *testing.T) {
	f := Classify(12, proxyRefusedOutput)
	if f.Kind != FailureProxy {
		t.Fatalf("classified as %+v, want %s", f, FailureProxy)
	}
	for _, want := range []string{"proxy", "stunnel_tcp_proxy", "refused", "authentication", "CONNECT request rejected"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q does not contain %q", f.Message, want)
		}
	}
	// rsync's own "Connection reset by peer" is not stunnel's: the endpoint was not the
	// problem.
	if strings.Contains(f.Message, "unreachable") {
		t.Errorf("message %q blames the endpoint", f.Message)
	}
}

func TestClassifyProxyUnreachable(t *testing.T) {
	out := "rsync: did not see server greeting\n" + StunnelLogMarker +
		"\n2026.11.27 14:48:33 LOG3[0]: s_connect: connect 10.0.0.17:8888: Connection refused (111)\n"
	if f := Classify(5, out); f.Kind != FailureUnreachable || !strings.Contains(f.Message, "stunnel_tcp_proxy") {
		t.Errorf("a proxy that does not listen: classified as %+v, want %s naming stunnel_tcp_proxy", f, FailureUnreachable)
	}
}

func TestCheckSucceeded(t *testing.T) {
	stats := func(files string) string {
		return "Number of files: " + files + "\nNumber of regular files transferred: 0\nTotal file size: 0 bytes\n"
	}
	for _, tc := range []struct {
		name, out string
		fails     bool
	}{
		{"copied", EntriesMarker + " 3\n" + stats("3 (reg: 2, dir: 1)"), false},
		{"nothing changed since the last copy", EntriesMarker + " 3\n" + stats("3 (reg: 2, dir: 1)"), false},
		{"an empty volume", EntriesMarker + " 1\n" + stats("1 (dir: 1)"), false},
		{"filtered out", EntriesMarker + " 40\n" + stats("1 (dir: 1)"), true},
		{"nothing at all", EntriesMarker + " 40\n" + stats("0"), true},
		{"no statistics", EntriesMarker + " 40\nsent 10 bytes  received 20 bytes\n", true},
		{"an older client without the listing", stats("1 (dir: 1)"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := CheckSucceeded(tc.out)
			if (f != nil) != tc.fails {
				t.Fatalf("CheckSucceeded = %+v, want failure %v", f, tc.fails)
			}
			if f != nil && f.Kind != FailureNothingMoved {
				t.Errorf("kind %s", f.Kind)
			}
		})
	}
	if f := CheckSucceeded(EntriesMarker + " 40\n" + stats("1 (dir: 1)")); !strings.Contains(f.Message, "39 files and directories") {
		t.Errorf("message %q", f.Message)
	}
}

func TestClassifyPermissionDenied(t *testing.T) {
	out := `rsync: [sender] send_files failed to open "/mnt/source/large": Permission denied (13)
rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1347) [sender=3.2.7]
`
	f := Classify(23, out)
	if f.Kind != FailureRsync || f.ExitCode != 23 {
		t.Fatalf("classified as %+v", f)
	}
	for _, want := range []string{`send_files failed to open "/mnt/source/large"`, "runAsUser", "runAsRoot", "enforce=privileged"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
}
