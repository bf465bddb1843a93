package manager

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ferrymtc/ferry/test/controlplane"
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
func (p *Process) PeakRSS() (int64, error) { return p.memory("VmHWM") }

// RSS returns the operator's resident memory now (VmRSS), in bytes.
func (p *Process) RSS() (int64, error) { return p.memory("VmRSS") }

// memory reads one of the kB figures of /proc/<pid>/status.
func (p *Process) memory(field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return 0, fmt.Errorf("read operator status: %w", err)
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(scanner.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse %s %q: %w", field, rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, p.PID())
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

// StartAgainst runs binary against the control plane cp in namespace, with its kubeconfig and
// log (manager.log) in stateDir, for the benchmarks that run the operator as a host process.
func StartAgainst(cp *controlplane.ControlPlane, binary, namespace, stateDir string) (*Process, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	kubeconfig := filepath.Join(stateDir, cp.Name+".kubeconfig")
	if err := cp.WriteKubeconfig(kubeconfig); err != nil {
		return nil, err
	}
	return Start(binary, kubeconfig, namespace, filepath.Join(stateDir, "manager.log"))
}

// MiB is bytes in mebibytes, as the benchmarks print memory.
func MiB(b int64) float64 { return float64(b) / (1 << 20) }
