package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is one run of a container: the re-executed helper that becomes the command, PID 1 of
// its own PID namespace (so killing it ends every process the container started).
type process struct {
	pid     int
	started time.Time
	done    chan struct{}
	// Set before done is closed.
	exitCode int
	finished time.Time
}

// errStart is a container that could not start (its command is missing, a volume cannot be
// mounted...): the kubelet's StartError.
type errStart struct{ msg string }

func (e *errStart) Error() string { return e.msg }

// startProcess launches spec with stdout and stderr appended to logPath, and returns once the
// container's command runs (or failed to start: *errStart).
func startProcess(spec *launchSpec, logPath string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	defer func() { _ = logFile.Close() }()
	errR, errW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer func() { _ = errR.Close() }()
	cmd := exec.Command(self)
	cmd.Args = []string{"ferry-podinit"}
	cmd.Env = []string{podinitEnv + "=" + string(raw)}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{errW}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:      true,
		Pdeathsig:    syscall.SIGKILL,
		Cloneflags:   syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS,
		Unshareflags: syscall.CLONE_NEWNS,
	}
	startErr := cmd.Start()
	_ = errW.Close()
	if startErr != nil {
		return nil, fmt.Errorf("start container helper: %w", startErr)
	}
	p := &process{pid: cmd.Process.Pid, started: time.Now(), done: make(chan struct{})}
	msg, _ := io.ReadAll(errR)
	go func() {
		err := cmd.Wait()
		p.exitCode = exitCode(cmd.ProcessState, err)
		p.finished = time.Now()
		close(p.done)
	}()
	if len(msg) > 0 {
		<-p.done
		return nil, &errStart{msg: string(msg)}
	}
	return p, nil
}

// exitCode reports a container's exit code as container runtimes do: 128+signal when killed.
func exitCode(state *os.ProcessState, err error) int {
	if state == nil {
		return 128
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return 128
	}
	return state.ExitCode()
}

// running reports whether the process has not exited yet.
func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the container's first process (SIGKILL there ends its whole PID
// namespace). Errors mean it is already gone.
func (p *process) signal(sig syscall.Signal) { _ = syscall.Kill(p.pid, sig) }
