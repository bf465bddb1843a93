package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hostCopy copies dirs, one after the other, into work (which it removes afterwards) with
// host processes on 127.0.0.1, and returns the time the copies took once the servers were up:
// what a transfer costs, not how long its servers take to start.
type hostCopy func(ctx context.Context, dirs []string, work string) (time.Duration, error)

// transport is one row of the benchmark: a way of copying volumes that users compare Ferry
// with, or Ferry's own path without the clusters.
type transport struct {
	key   string // in the metric names: transfer_<scenario>_mbps_<key>
	label string
	peer  bool // a tool users would pick instead of Ferry (not plain rsync, not Ferry's own)
	copy  hostCopy
}

// hostTransports are measured on the same data in the same run as the DVM. Every peer runs
// `rsync -a` through its own transport, so that the transports, not rsync options, are
// compared (VolSync adds -z, pv-migrate can: that only slows incompressible data down).
func hostTransports() []transport {
	return []transport{
		{key: "plain", label: "rsync -a, local (no network, no crypto)", copy: plainRsync},
		{key: "rsync_ssh", label: "rsync over ssh (pv-migrate)", peer: true, copy: rsyncSSH},
		{key: "stunnel_psk", label: "stunnel, pre-shared key (VolSync)", peer: true, copy: stunnelPSK},
		{key: "stunnel_noverify", label: "stunnel, no verification (MTC)", peer: true, copy: stunnelNoVerify},
		{key: "own_loopback", label: "Ferry's stunnel pair on loopback", copy: loopbackTLS},
	}
}

// timeHost runs each transport three times and returns each one's median. The runs are
// interleaved (all transports once, then again) so that a slow spell of this shared machine
// lands on all of them rather than on one.
func timeHost(ctx context.Context, ts []transport, dirs []string, work string) (map[string]time.Duration, error) {
	runs := map[string][]time.Duration{}
	for range 3 {
		for _, t := range ts {
			d, err := t.copy(ctx, dirs, filepath.Join(work, t.key))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.label, err)
			}
			runs[t.key] = append(runs[t.key], d)
		}
	}
	medians := map[string]time.Duration{}
	for k, r := range runs {
		slices.Sort(r)
		medians[k] = r[len(r)/2]
	}
	return medians, nil
}

// timeCopies runs the client command argv(i, dir) for each directory, one after the other,
// and returns their total time. servers' logs explain a failure. Afterwards, untimed, each
// directory's copy, dst/i, must hold as many files and bytes as the directory: a transport
// that quietly copied less, or elsewhere, would otherwise look fast.
func timeCopies(ctx context.Context, dirs []string, dst string, s *servers, argv func(i int, dir string) []string) (time.Duration, error) {
	start := time.Now()
	for i, d := range dirs {
		a := argv(i, d)
		if out, err := exec.CommandContext(ctx, a[0], a[1:]...).CombinedOutput(); err != nil {
			s.stop() // before reading their logs
			return 0, fmt.Errorf("%s: %w: %s\nservers: %s", a[0], err, out, s.logs())
		}
	}
	elapsed := time.Since(start)
	for i, d := range dirs {
		want, err := tally(d)
		if err != nil {
			return 0, err
		}
		got, err := tally(filepath.Join(dst, strconv.Itoa(i)))
		if err != nil {
			return 0, fmt.Errorf("copy of %s: %w", d, err)
		}
		if got != want {
			return 0, fmt.Errorf("copy of %s: %d files of %d bytes, want %d of %d", d, got[0], got[1], want[0], want[1])
		}
	}
	return elapsed, nil
}

// tally counts the regular files under dir and their bytes.
func tally(dir string) ([2]int64, error) {
	var t [2]int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		info, err := e.Info()
		t[0]++
		t[1] += info.Size()
		return err
	})
	return t, err
}

// servers are the long-running processes of one copy (sshd, stunnel, rsync daemons) in the
// foreground, so that they end with the copy and leave nothing behind.
type servers struct {
	cmds []*exec.Cmd
	out  []*bytes.Buffer
}

func (s *servers) start(ctx context.Context, argv ...string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmds, s.out = append(s.cmds, cmd), append(s.out, &out)
	return nil
}

// stop ends the servers; calling it again does nothing more.
func (s *servers) stop() {
	for _, c := range s.cmds {
		_ = c.Process.Kill()
		_ = c.Wait()
	}
}

// logs is what the servers printed; read it only after stop (the buffers are written while
// they run).
func (s *servers) logs() string {
	var parts []string
	for i, c := range s.cmds {
		parts = append(parts, filepath.Base(c.Path)+": "+strings.TrimSpace(s.out[i].String()))
	}
	return strings.Join(parts, "\n")
}

// peerRsyncdConf is an rsync daemon with one writable module, data, at dst, running as the
// current user (as root, rsync would otherwise switch to nobody and could not write). port 0
// is for a daemon started per connection (stunnel's exec), which listens on nothing.
func peerRsyncdConf(dst string, port int) string {
	lines := []string{
		"use chroot = false",
		"numeric ids = true",
		"reverse lookup = false",
		"read only = false",
		fmt.Sprintf("uid = %d", os.Getuid()),
		fmt.Sprintf("gid = %d", os.Getgid()),
	}
	if port != 0 {
		lines = append(lines, "address = 127.0.0.1", fmt.Sprintf("port = %d", port))
	}
	return strings.Join(append(lines, "[data]", "path = "+dst, ""), "\n")
}
