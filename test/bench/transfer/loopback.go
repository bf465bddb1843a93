package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ferrymtc/ferry/pkg/transfer"
)

// loopbackTLS copies dirs like a DVM does, with Ferry's own rsync and stunnel configurations
// and the client script, but as host processes on 127.0.0.1: no pods, no veths, no Service
// proxy. It is the ceiling of the transfer path on this machine (rsync through a verifying
// stunnel pair), which tells what the local clusters' network costs on top.
func loopbackTLS(ctx context.Context, dirs []string, work string) (time.Duration, error) {
	defer func() { _ = os.RemoveAll(work) }()
	creds, err := transfer.NewCredentials("bench", time.Now())
	if err != nil {
		return 0, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return 0, err
	}
	stunnelPort, rsyncPort := ports[0], ports[1]
	paths := transfer.HostPaths(work, stunnelPort, rsyncPort)
	pair := creds.Pair("bench-source", "bench-destination")
	var modules []string
	var rsyncModules []transfer.RsyncModule
	for i := range dirs {
		modules = append(modules, transfer.Module(strconv.Itoa(i)))
		rsyncModules = append(rsyncModules, transfer.RsyncModule{Name: modules[i], User: pair.User})
	}
	rsyncdConf, err := transfer.RsyncdConf(rsyncModules, true)
	if err != nil {
		return 0, err
	}
	clientConf, err := transfer.ClientStunnelConf(transfer.Endpoint{Host: "127.0.0.1", Port: stunnelPort}, nil)
	if err != nil {
		return 0, err
	}
	secrets, err := transfer.RsyncSecrets([]transfer.PairAuth{pair})
	if err != nil {
		return 0, err
	}
	files := map[string]string{
		"config/" + transfer.FileRsyncdConf:   rsyncdConf,
		"config/" + transfer.FileStunnelConf:  transfer.ServerStunnelConf(),
		"config/client.conf":                  clientConf,
		"secret/" + transfer.FileCACert:       string(creds.CACert),
		"secret/server.crt":                   string(creds.ServerCert),
		"secret/server.key":                   string(creds.ServerKey),
		"secret/" + transfer.FileCert:         string(creds.ClientCert),
		"secret/" + transfer.FileKey:          string(creds.ClientKey),
		"secret/" + transfer.FileRsyncSecrets: secrets,
	}
	for name, content := range files {
		content = paths.Replace(content)
		if strings.HasPrefix(name, "config/"+transfer.FileStunnelConf) {
			// The server presents the server certificate; the shared secret directory holds both.
			content = strings.NewReplacer("/"+transfer.FileCert, "/server.crt", "/"+transfer.FileKey, "/server.key").Replace(content)
		}
		if err := writeFile(filepath.Join(work, name), content); err != nil {
			return 0, err
		}
	}
	for _, d := range append(modules, "../work") {
		if err := os.MkdirAll(filepath.Join(work, "mnt", d), 0o755); err != nil {
			return 0, err
		}
	}
	for _, argv := range [][]string{
		{"rsync", "--daemon", "--no-detach", "--config=" + filepath.Join(work, "config", transfer.FileRsyncdConf)},
		{"stunnel", filepath.Join(work, "config", transfer.FileStunnelConf)},
	} {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	}
	if err := waitPort(stunnelPort); err != nil {
		return 0, err
	}
	start := time.Now()
	for i, d := range dirs {
		if err := os.Symlink(d, filepath.Join(work, "mnt", "source")); err != nil {
			return 0, err
		}
		args := transfer.ClientArgs(transfer.DefaultRsyncOptions(), pair.User, modules[i], false)
		for j := range args {
			args[j] = paths.Replace(args[j])
		}
		cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", paths.Replace(transfer.ClientScript), "rsync"}, args...)...)
		cmd.Env = append(os.Environ(), "RSYNC_PASSWORD="+pair.Password,
			"RSYNC_CONNECT_PROG=stunnel "+filepath.Join(work, "config", "client.conf"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("loopback rsync: %w: %s", err, out)
		}
		if err := os.Remove(filepath.Join(work, "mnt", "source")); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o600)
}

// freePorts returns n distinct loopback ports that were free a moment ago (all held open
// together, so that none is handed out twice).
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer func() { _ = l.Close() }()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func waitPort(port int) error {
	for range 100 {
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			return c.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %d", port)
}
