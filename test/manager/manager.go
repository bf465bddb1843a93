package manager

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopTimeout bounds how long the operator may take to exit after SIGTERM.
const stopTimeout = 10 * time.Second

// Process is a running operator.
type Process struct {
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// Start runs binary with kubeconfig, in the given operator namespace, with metrics and health
// endpoints off, logging to logPath. The process is killed if the caller dies.
func Start(binary, kubeconfig, namespace, logPath string) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create operator log: %w", err)
	}
	cmd := exec.Command(binary, "--kubeconfig", kubeconfig, "--namespace", namespace,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start operator %s: %w", binary, err)
	}
	p := &Process{cmd: cmd, done: make(chan error, 1), log: logFile}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// PID is the operator's process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// PeakRSS returns the operator's peak resident memory so far (VmHWM), in bytes.
func (p *Process) PeakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return 0, fmt.Errorf("read operator status: %w", err)
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(scanner.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmHWM %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", p.PID())
}

// Stop sends SIGTERM, kills the operator if it does not exit in time, and returns its exit
// error (nil for a clean exit).
func (p *Process) Stop() error {
	defer func() { _ = p.log.Close() }()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("operator did not stop within %s: %w", stopTimeout, <-p.done)
	}
}

// Kill ends the operator with SIGKILL, as a crash or an OOM kill would: nothing it was doing
// gets to finish.
func (p *Process) Kill() {
	defer func() { _ = p.log.Close() }()
	_ = p.cmd.Process.Kill()
	// The exit error can only say "signal: killed"; Kill just waits for the exit.
	exitErr := <-p.done
	_ = exitErr
}
