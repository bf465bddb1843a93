package s3

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ferrymtc/ferry/test/netutil"
)

const (
	// DefaultRegion is the region the server reports when Options.Region is empty.
	DefaultRegion = "us-east-1"
	// startTimeout bounds how long the server may take to answer; it normally takes 0.1 s.
	startTimeout = 30 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before killing the server.
	stopTimeout = 5 * time.Second
	// startAttempts is how many ports Start tries (see doc.go on the port race).
	startAttempts = 3
	// outputLimit caps how much server output is kept for error messages.
	outputLimit = 8 << 10
)

// Options configures a test S3 server. The zero value is a plain-HTTP server with random
// credentials in us-east-1.
type Options struct {
	// AccessKey and SecretKey are the root credentials; random when empty.
	AccessKey, SecretKey string
	// Region is the region the server reports; DefaultRegion when empty.
	Region string
	// TLS serves HTTPS with a certificate signed by a throw-away CA (Server.CABundle).
	TLS bool
}

// Server is a running versitygw.
type Server struct {
	// Endpoint is the server's URL, such as http://127.0.0.1:40123.
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey, SecretKey string
	// Region is the region the server reports.
	Region string
	// CABundle is the PEM CA that signed the server's certificate; nil without TLS.
	CABundle []byte

	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
	output   *tail
	stopOnce sync.Once
	stopErr  error
}

// Start starts versitygw with a fresh, empty data directory. Call Stop when done.
func Start(opts Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	s := &Server{AccessKey: opts.AccessKey, SecretKey: opts.SecretKey, Region: opts.Region}
	if s.AccessKey == "" {
		s.AccessKey = "FERRY" + strings.ToUpper(randomHex(8))
	}
	if s.SecretKey == "" {
		s.SecretKey = randomHex(20)
	}
	if s.Region == "" {
		s.Region = DefaultRegion
	}
	if s.dir, err = os.MkdirTemp("", "ferry-s3-"); err != nil {
		return nil, fmt.Errorf("create S3 server directory: %w", err)
	}
	if err := s.prepare(opts.TLS); err != nil {
		_ = os.RemoveAll(s.dir)
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		err = s.launch(bin, opts.TLS)
		if err == nil {
			return s, nil
		}
		if attempt == startAttempts || !errors.Is(err, errExited) {
			_ = s.Stop()
			return nil, err
		}
	}
}

// prepare creates the data directory and, for TLS, the certificate files.
func (s *Server) prepare(useTLS bool) error {
	if err := os.Mkdir(filepath.Join(s.dir, "data"), 0o700); err != nil {
		return fmt.Errorf("create S3 data directory: %w", err)
	}
	if !useTLS {
		return nil
	}
	ca, cert, key, err := netutil.ServingCertificate("ferry-test-s3-ca")
	if err != nil {
		return err
	}
	s.CABundle = ca
	for name, data := range map[string][]byte{"tls.crt": cert, "tls.key": key} {
		if err := os.WriteFile(filepath.Join(s.dir, name), data, 0o600); err != nil {
			return fmt.Errorf("write S3 server %s: %w", name, err)
		}
	}
	return nil
}

// errExited says the server exited before answering, for example because its port was taken.
var errExited = errors.New("the S3 server exited before answering")

// launch runs the server on a free port and waits until it answers.
func (s *Server) launch(bin string, useTLS bool) error {
	addr, err := netutil.FreeLoopbackAddr()
	if err != nil {
		return err
	}
	return s.launchAt(bin, addr, useTLS)
}

// launchAt runs the server on addr and waits until it answers.
func (s *Server) launchAt(bin, addr string, useTLS bool) error {
	args := []string{"--access", s.AccessKey, "--secret", s.SecretKey, "--port", addr, "--region", s.Region, "--quiet"}
	scheme := "http"
	if useTLS {
		scheme = "https"
		args = append(args, "--cert", filepath.Join(s.dir, "tls.crt"), "--key", filepath.Join(s.dir, "tls.key"))
	}
	args = append(args, "posix", filepath.Join(s.dir, "data"))
	s.Endpoint = scheme + "://" + addr
	s.output = &tail{limit: outputLimit}
	s.cmd = exec.Command(bin, args...) //nolint:gosec // the binary and its arguments are the harness's own.
	s.cmd.Env = cleanEnv()
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	s.exited = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	return s.waitReady()
}

// waitReady polls the endpoint until any HTTP answer arrives (an anonymous GET is refused
// with 403, which proves the S3 server is serving).
func (s *Server) waitReady() error {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig(s.CABundle)}}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("%w on %s: %s", errExited, s.Endpoint, s.output.String())
		default:
		}
		if resp, err := hc.Get(s.Endpoint + "/"); err == nil {
			_ = resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the S3 server on %s did not answer within %s: %s", s.Endpoint, startTimeout, s.output.String())
}

// Interrupt stops the server as an outage would: clients are refused until Resume; the data
// is kept.
func (s *Server) Interrupt() error {
	if err := s.terminate(); err != nil {
		return fmt.Errorf("stop the S3 server: %w", err)
	}
	return nil
}

// terminate sends SIGTERM and waits for the process to exit, killing it after stopTimeout.
func (s *Server) terminate() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	return nil
}

// Resume starts an interrupted server again on the same address, with the same data.
func (s *Server) Resume() error {
	bin, err := Binary()
	if err != nil {
		return err
	}
	_, addr, _ := strings.Cut(s.Endpoint, "://")
	return s.launchAt(bin, addr, s.CABundle != nil)
}

// Stop stops the server and removes its data. It is safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.terminate()
		}
		if err := os.RemoveAll(s.dir); err != nil {
			s.stopErr = fmt.Errorf("remove S3 server directory: %w", err)
		}
	})
	return s.stopErr
}

// cleanEnv is the harness's environment without versitygw's own settings (VGW_*, ROOT_*),
// which would otherwise override the flags given here.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VGW_") && !strings.HasPrefix(kv, "ROOT_") {
			env = append(env, kv)
		}
	}
	return env
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b)
}

// tail keeps the last bytes written to it.
type tail struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.limit; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.buf.String())
}
