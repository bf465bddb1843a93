package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sshdPath is absolute because sshd re-executes itself by the path it was started with.
const sshdPath = "/usr/sbin/sshd"

// rsyncSSH copies dirs with rsync over ssh, pv-migrate's transport: a throw-away sshd on a
// loopback port (its own host key, one authorized key, both in work) and rsync's -e ssh with
// ssh's default cipher, as pv-migrate leaves it.
func rsyncSSH(ctx context.Context, dirs []string, work string) (time.Duration, error) {
	defer func() { _ = os.RemoveAll(work) }()
	ports, err := freePorts(1)
	if err != nil {
		return 0, err
	}
	me, err := user.Current()
	if err != nil {
		return 0, err
	}
	keys, home := filepath.Join(work, "ssh"), filepath.Join(work, "home")
	for _, d := range []string{keys, home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return 0, err
		}
	}
	for _, k := range []string{"host", "client"} {
		if out, err := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(keys, k)).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("ssh-keygen: %w: %s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(keys, "client.pub"))
	if err != nil {
		return 0, err
	}
	if err := writeFile(filepath.Join(keys, "authorized_keys"), string(pub)); err != nil {
		return 0, err
	}
	conf := strings.Join([]string{
		"ListenAddress 127.0.0.1:" + strconv.Itoa(ports[0]),
		"HostKey " + filepath.Join(keys, "host"),
		"AuthorizedKeysFile " + filepath.Join(keys, "authorized_keys"),
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		// No PAM (no login session to set up) and no ownership checks of the temporary
		// key directory's parents, which belong to whoever runs the benchmark.
		"UsePAM no",
		"StrictModes no",
		"PidFile none",
		// Debian's bash sources ~/.bashrc for commands sshd runs, and the remote rsync is
		// started through the user's shell: an empty home keeps the benchmark user's start-up
		// files (here root's pyenv set-up, a second per connection) out of the figures, as a
		// pv-migrate pod's shell reads none.
		"SetEnv HOME=" + home,
		"",
	}, "\n")
	if err := writeFile(filepath.Join(keys, "sshd_config"), conf); err != nil {
		return 0, err
	}
	// sshd run as root refuses to start without its privilege separation directory, which
	// only the openssh-server service's start creates; if it cannot be made, sshd's log says.
	_ = os.MkdirAll("/run/sshd", 0o755)
	var s servers
	defer s.stop()
	if err := s.start(ctx, sshdPath, "-D", "-e", "-f", filepath.Join(keys, "sshd_config")); err != nil {
		return 0, err
	}
	if err := waitPort(ports[0]); err != nil {
		s.stop()
		return 0, fmt.Errorf("%w: %s", err, s.logs())
	}
	dst := filepath.Join(work, "dst")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return 0, err
	}
	rsh := fmt.Sprintf("ssh -p %d -i %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR",
		ports[0], filepath.Join(keys, "client"))
	return timeCopies(ctx, dirs, dst, &s, func(i int, d string) []string {
		return []string{"rsync", "-a", "-e", rsh, d + "/", fmt.Sprintf("%s@127.0.0.1:%s/%d/", me.Username, dst, i)}
	})
}
