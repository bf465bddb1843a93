package registry

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ferrymtc/ferry/hack/repo"
	"github.com/ferrymtc/ferry/test/netutil"
)

// BinDirEnv overrides the directory where the registry binary is looked up.
const BinDirEnv = "FERRY_REGISTRY_BIN"

const (
	// binaryName is the CNCF distribution registry program.
	binaryName = "registry"
	// startTimeout bounds how long the registry may take to answer; it normally takes 0.1 s.
	startTimeout = 30 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before killing the registry.
	stopTimeout = 10 * time.Second
	// drainTimeout is how long the registry lets requests in flight finish after SIGTERM.
	drainTimeout = 2 * time.Second
	// startAttempts is how many ports launch tries (see doc.go on the port race).
	startAttempts = 3
	// logTailBytes is how much of the registry's log goes into error messages.
	logTailBytes = 4 << 10
	// keepLogsEnv keeps the registry's directory (log and content) after Stop, as
	// test/controlplane does for its components' logs.
	keepLogsEnv = "FERRY_KEEP_LOGS"
)

// Binary returns the path of the registry binary: in FERRY_REGISTRY_BIN if set, else in
// bin/registry of the Ferry repository that contains the working directory.
func Binary() (string, error) {
	dir := os.Getenv(BinDirEnv)
	if dir == "" {
		root, err := repo.Root()
		if err != nil {
			return "", fmt.Errorf("find the registry binary: %w", err)
		}
		dir = filepath.Join(root, "bin", "registry")
	}
	path := filepath.Join(dir, binaryName)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("registry binary %s not found in %s (run `make registry` to build it): %w", binaryName, dir, err)
	}
	return path, nil
}

// process is the distribution registry running as a host process: plain HTTP on a loopback
// port, filesystem storage under dir/data, its log in dir/registry.log.
type process struct {
	dir     string
	addr    string // 127.0.0.1:port
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startProcess runs the registry with a fresh storage directory, posting its push events to
// eventsURL, and waits until it answers.
func startProcess(name, eventsURL string) (*process, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	p := &process{}
	if p.dir, err = os.MkdirTemp("", "ferry-registry-"+name+"-"); err != nil {
		return nil, fmt.Errorf("create registry directory: %w", err)
	}
	p.logPath = filepath.Join(p.dir, "registry.log")
	for attempt := 1; ; attempt++ {
		err = p.launch(bin, eventsURL)
		if err == nil {
			return p, nil
		}
		if attempt == startAttempts || !errors.Is(err, errExited) {
			err = fmt.Errorf("%w\nregistry log tail:\n%s", err, p.logTail(logTailBytes))
			p.stop()
			return nil, err
		}
	}
}

// errExited says the registry exited before answering, for example because its port was taken.
var errExited = errors.New("the registry exited before answering")

// launch runs the registry on a free port and waits until it answers.
func (p *process) launch(bin, eventsURL string) error {
	addr, err := netutil.FreeLoopbackAddr()
	if err != nil {
		return err
	}
	p.addr = addr
	config := filepath.Join(p.dir, "config.yml")
	if err := os.WriteFile(config, []byte(registryConfig(filepath.Join(p.dir, "data"), addr, eventsURL)), 0o600); err != nil {
		return fmt.Errorf("write registry configuration: %w", err)
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create registry log: %w", err)
	}
	p.cmd = exec.Command(bin, "serve", config) //nolint:gosec // the binary and its arguments are the harness's own.
	p.cmd.Dir = p.dir
	p.cmd.Env = cleanEnv()
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	// Its own process group; Pdeathsig kills it if the test process dies without Stop.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start %s: %w", bin, err)
	}
	p.exited = make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	return p.waitReady()
}

// waitReady polls the registry's base endpoint until it answers 200 (it has no auth).
func (p *process) waitReady() error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("%w on %s (%s)", errExited, p.addr, p.cmd.ProcessState)
		default:
		}
		if resp, err := hc.Get("http://" + p.addr + "/v2/"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the registry on %s did not answer within %s", p.addr, startTimeout)
}

// stop ends the registry (SIGTERM, SIGKILL after stopTimeout) and removes its directory,
// unless FERRY_KEEP_LOGS=1 asks to keep it. It returns the kept directory, if any.
func (p *process) stop() string {
	if p.cmd != nil && p.cmd.Process != nil && p.exited != nil {
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.exited
		}
	}
	if p.dir == "" {
		return ""
	}
	if os.Getenv(keepLogsEnv) == "1" {
		return p.dir
	}
	_ = os.RemoveAll(p.dir)
	return ""
}

// logTail returns the whole lines among the last n bytes of the registry's log.
func (p *process) logTail(n int) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no registry log: %v)", err)
	}
	defer func() { _ = f.Close() }()
	cut := false
	if st, err := f.Stat(); err == nil && st.Size() > int64(n) {
		if _, err := f.Seek(-int64(n), io.SeekEnd); err != nil {
			return fmt.Sprintf("(seek registry log: %v)", err)
		}
		cut = true
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(read registry log: %v)", err)
	}
	text := string(b)
	if i := strings.IndexByte(text, '\n'); cut && i >= 0 {
		text = text[i+1:]
	}
	return strings.TrimSpace(text)
}

// registryConfig is the registry's configuration: filesystem storage under data, plain HTTP on
// addr (loopback), relative Location headers (it sits behind the HTTPS front, whose address
// it does not know), deletes allowed (as in OpenShift's registry, for pruning), no access log
// (every request would be a line), and manifest events (pushes and deletes; blob events and
// pulls are ignored) posted to eventsURL.
func registryConfig(data, addr, eventsURL string) string {
	return fmt.Sprintf(`version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %q
  secret: %q
  relativeurls: true
  draintimeout: %s
notifications:
  events:
    includereferences: true
  endpoints:
  - name: ferry-image-controller
    url: %q
    timeout: 2s
    threshold: 3
    backoff: 1s
    ignore:
      mediatypes:
      - application/octet-stream
      actions:
      - pull
`, data, addr, randomHex(16), drainTimeout, eventsURL)
}

// cleanEnv is the harness's environment without what would change the registry's behaviour:
// REGISTRY_* variables override its configuration file, and OpenTelemetry's would make it
// export traces; its trace exporter is turned off (by default it would try localhost:4318).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "REGISTRY_") || strings.HasPrefix(kv, "OTEL_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b)
}
