package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferrymtc/ferry/pkg/transfer"
)

// The two stunnel peers run stunnel as VolSync and MTC configure it, in two pairs: a server in
// front of rsync and a client listening on loopback that rsync connects to
// (rsync://127.0.0.1:port/data). Only the settings that shape the transport are kept;
// keepalives and debug logging are left out.

// stunnelPSK is VolSync's rsync-tls mover: both stunnels authenticate with a pre-shared key
// (ciphers = PSK, PSKsecrets) instead of certificates, and the server starts an rsync daemon
// per connection (exec, inetd style) rather than forwarding to a listening one. Like VolSync
// it sets no TLS version, so that the pair negotiates what its stunnel and OpenSSL prefer:
// with Debian 12's, TLS 1.3 with an external PSK and TLS_AES_128_GCM_SHA256 (ciphers = PSK
// only limits TLS 1.2's suites).
func stunnelPSK(ctx context.Context, dirs []string, work string) (time.Duration, error) {
	defer func() { _ = os.RemoveAll(work) }()
	ports, err := freePorts(2)
	if err != nil {
		return 0, err
	}
	rsyncPath, err := exec.LookPath("rsync")
	if err != nil {
		return 0, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return 0, err
	}
	psk := filepath.Join(work, "psk.txt")
	rsyncdConf := filepath.Join(work, "rsyncd.conf")
	files := map[string]string{
		psk:        "bench:" + hex.EncodeToString(key) + "\n",
		rsyncdConf: peerRsyncdConf(filepath.Join(work, "dst"), 0),
		filepath.Join(work, "server.conf"): stunnelConf(
			"ciphers = PSK", "PSKsecrets = "+psk,
			fmt.Sprintf("accept = 127.0.0.1:%d", ports[0]),
			"exec = "+rsyncPath, "execArgs = rsync --server --daemon --config="+rsyncdConf+" ."),
		filepath.Join(work, "client.conf"): stunnelConf(
			"client = yes", "ciphers = PSK", "PSKsecrets = "+psk,
			fmt.Sprintf("accept = 127.0.0.1:%d", ports[1]), fmt.Sprintf("connect = 127.0.0.1:%d", ports[0])),
	}
	return stunnelPair(ctx, dirs, work, files, ports, nil)
}

// stunnelNoVerify is MTC's transport (crane-lib's stunnel configurations): TLS 1.2, the
// server presents a certificate that the client never checks (no CAfile, no verify), the
// server checks no client certificate either, and forwards to a listening rsync daemon.
// TCP_NODELAY is set on the server's sockets only, as MTC does.
func stunnelNoVerify(ctx context.Context, dirs []string, work string) (time.Duration, error) {
	defer func() { _ = os.RemoveAll(work) }()
	ports, err := freePorts(3)
	if err != nil {
		return 0, err
	}
	creds, err := transfer.NewCredentials("bench", time.Now())
	if err != nil {
		return 0, err
	}
	certs := map[string][]byte{"server.crt": creds.ServerCert, "server.key": creds.ServerKey,
		"client.crt": creds.ClientCert, "client.key": creds.ClientKey}
	files := map[string]string{
		filepath.Join(work, "rsyncd.conf"): peerRsyncdConf(filepath.Join(work, "dst"), ports[2]),
		filepath.Join(work, "server.conf"): stunnelConf(
			"sslVersion = TLSv1.2", "socket = l:TCP_NODELAY=1", "socket = r:TCP_NODELAY=1",
			fmt.Sprintf("accept = 127.0.0.1:%d", ports[0]), fmt.Sprintf("connect = 127.0.0.1:%d", ports[2]),
			"cert = "+filepath.Join(work, "server.crt"), "key = "+filepath.Join(work, "server.key"), "TIMEOUTclose = 0"),
		filepath.Join(work, "client.conf"): stunnelConf(
			"client = yes", "sslVersion = TLSv1.2",
			fmt.Sprintf("accept = 127.0.0.1:%d", ports[1]), fmt.Sprintf("connect = 127.0.0.1:%d", ports[0]),
			"cert = "+filepath.Join(work, "client.crt"), "key = "+filepath.Join(work, "client.key")),
	}
	for name, pem := range certs {
		files[filepath.Join(work, name)] = string(pem)
	}
	daemon := []string{"rsync", "--daemon", "--no-detach", "--config=" + filepath.Join(work, "rsyncd.conf")}
	return stunnelPair(ctx, dirs, work, files, ports, daemon)
}

// stunnelConf is a foreground stunnel configuration without a pid file, its service's lines
// in one [rsync] section.
func stunnelConf(service ...string) string {
	return strings.Join(append([]string{"foreground = yes", "pid =", "syslog = no", "[rsync]"}, service...), "\n") + "\n"
}

// stunnelPair writes files, starts the rsync daemon (when one listens), the server and the
// client stunnel, waits for all of ports to listen, and copies dirs through the client's,
// ports[1].
func stunnelPair(ctx context.Context, dirs []string, work string, files map[string]string, ports []int, daemon []string) (time.Duration, error) {
	for path, content := range files {
		if err := writeFile(path, content); err != nil {
			return 0, err
		}
	}
	if err := os.MkdirAll(filepath.Join(work, "dst"), 0o755); err != nil {
		return 0, err
	}
	var s servers
	defer s.stop()
	for _, argv := range [][]string{daemon,
		{"stunnel", filepath.Join(work, "server.conf")}, {"stunnel", filepath.Join(work, "client.conf")}} {
		if argv == nil {
			continue
		}
		if err := s.start(ctx, argv...); err != nil {
			return 0, err
		}
	}
	for _, p := range ports {
		if err := waitPort(p); err != nil {
			s.stop()
			return 0, fmt.Errorf("%w: %s", err, s.logs())
		}
	}
	return timeCopies(ctx, dirs, filepath.Join(work, "dst"), &s, func(i int, d string) []string {
		return []string{"rsync", "-a", d + "/", fmt.Sprintf("rsync://127.0.0.1:%d/data/%d/", ports[1], i)}
	})
}
