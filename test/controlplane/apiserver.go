package controlplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// apiServerProcess is a kube-apiserver that StartAPIServer started again after StopAPIServer:
// envtest no longer knows it, so Stop stops it.
type apiServerProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
	dir  string
}

// stoppedAPIServer is how StopAPIServer found the running kube-apiserver, to run it again.
type stoppedAPIServer struct {
	args, env []string
	cwd       string
}

// StopAPIServer stops this control plane's kube-apiserver with SIGTERM (SIGKILL after
// componentStopTimeout), as an outage or an upgrade of the API server would, and keeps etcd
// and every file the API server needs, so that StartAPIServer brings the same API server back:
// same address, certificates, signing keys and data. Clients get connection refused meanwhile.
func (cp *ControlPlane) StopAPIServer() error {
	if cp.stopped != nil {
		return errors.New("the API server is already stopped")
	}
	pid, err := cp.apiServerPID()
	if err != nil {
		return err
	}
	stopped, err := processOf(pid)
	if err != nil {
		return err
	}
	if err := stopProcess(pid, cp.restarted); err != nil {
		return err
	}
	cp.restarted = nil
	cp.stopped = stopped
	return nil
}

// StartAPIServer runs the kube-apiserver that StopAPIServer stopped again, with its arguments
// and environment, and waits until it is ready.
func (cp *ControlPlane) StartAPIServer(ctx context.Context) error {
	if cp.stopped == nil {
		return errors.New("the API server is not stopped")
	}
	dir, err := os.MkdirTemp("", "ferry-kube-apiserver-"+cp.Name+"-")
	if err != nil {
		return fmt.Errorf("create kube-apiserver directory: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		return fmt.Errorf("create kube-apiserver log: %w", err)
	}
	cmd := exec.Command(cp.stopped.args[0], cp.stopped.args[1:]...) //nolint:gosec // the API server's own command line.
	cmd.Env, cmd.Dir = cp.stopped.env, cp.stopped.cwd
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start kube-apiserver of %q again: %w", cp.Name, err)
	}
	p := &apiServerProcess{cmd: cmd, done: make(chan struct{}), dir: dir}
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(p.done) }()
	cp.restarted, cp.stopped = p, nil
	return cp.waitReady(ctx, p)
}

// waitReady polls /readyz until the API server answers ok.
func (cp *ControlPlane) waitReady(ctx context.Context, p *apiServerProcess) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		body, err := cp.Clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("kube-apiserver of %q exited at start (log in %s)", cp.Name, p.dir)
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver of %q not ready after %s (last: %w): %w", cp.Name, startTimeout, err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stopRestarted stops a kube-apiserver that StartAPIServer started, for Stop.
func (cp *ControlPlane) stopRestarted() error {
	if cp.restarted == nil {
		return nil
	}
	p := cp.restarted
	cp.restarted = nil
	err := stopProcess(p.cmd.Process.Pid, p)
	if os.Getenv("FERRY_KEEP_LOGS") == "" {
		err = errors.Join(err, os.RemoveAll(p.dir))
	}
	return err
}

// stopProcess sends SIGTERM to pid, then SIGKILL after componentStopTimeout, and waits until
// it is gone. p is the process when this package started it (its Wait reaps it).
func stopProcess(pid int, p *apiServerProcess) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop kube-apiserver (PID %d): %w", pid, err)
	}
	deadline := time.Now().Add(componentStopTimeout)
	for alive(pid, p) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(componentStopTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// alive says whether pid still runs (a zombie that envtest has not reaped yet counts as gone).
func alive(pid int, p *apiServerProcess) bool {
	if p != nil {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// apiServerPID finds the kube-apiserver serving this control plane: the one whose
// --secure-port is the port of its URL.
func (cp *ControlPlane) apiServerPID() (int, error) {
	if cp.restarted != nil {
		return cp.restarted.cmd.Process.Pid, nil
	}
	u, err := url.Parse(cp.URL())
	if err != nil {
		return 0, fmt.Errorf("API server URL %q: %w", cp.URL(), err)
	}
	want := []byte("--secure-port=" + u.Port())
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
		if filepath.Base(string(args[0])) != "kube-apiserver" {
			continue
		}
		for _, a := range args[1:] {
			if bytes.Equal(a, want) {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no kube-apiserver of %q (%s) runs", cp.Name, want)
}

// processOf reads the command line, environment and working directory of pid.
func processOf(pid int) (*stoppedAPIServer, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil {
		return nil, fmt.Errorf("read the command line of PID %d: %w", pid, err)
	}
	environ, err := os.ReadFile(filepath.Join(dir, "environ"))
	if err != nil {
		return nil, fmt.Errorf("read the environment of PID %d: %w", pid, err)
	}
	cwd, err := os.Readlink(filepath.Join(dir, "cwd"))
	if err != nil {
		return nil, fmt.Errorf("read the working directory of PID %d: %w", pid, err)
	}
	split := func(b []byte) []string {
		var out []string
		for _, s := range bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0}) {
			if len(s) > 0 {
				out = append(out, string(s))
			}
		}
		return out
	}
	return &stoppedAPIServer{args: split(cmdline), env: split(environ), cwd: cwd}, nil
}
