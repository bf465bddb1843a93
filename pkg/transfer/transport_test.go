package transfer

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// must returns v, or panics with err: for builders whose inputs a test controls.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// testSourceNS and testDestNS are the namespace pair of the single-module transports.
const testSourceNS, testDestNS = "src", "dst"

// testPaths rewrites the in-pod paths and ports of a configuration for host processes.
type testPaths struct {
	dir                    string
	stunnelPort, rsyncPort int
}

func (p testPaths) rewrite(s string) string {
	return HostPaths(p.dir, p.stunnelPort, p.rsyncPort).Replace(s)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFiles(t *testing.T, dir string, files map[string]string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// startServer runs the rsync daemon and the server stunnel of creds with one module.
func startServer(ctx context.Context, t *testing.T, creds *Credentials, module string) testPaths {
	t.Helper()
	p := testPaths{dir: t.TempDir(), stunnelPort: freePort(t), rsyncPort: freePort(t)}
	writeFiles(t, filepath.Join(p.dir, "config"), map[string]string{
		FileRsyncdConf:  p.rewrite(must(RsyncdConf([]RsyncModule{{Name: module, User: PairUser(testSourceNS, testDestNS)}}, true))),
		FileStunnelConf: p.rewrite(ServerStunnelConf()),
	}, 0o644)
	writeFiles(t, filepath.Join(p.dir, "secret"), map[string]string{
		FileCACert: string(creds.CACert), FileCert: string(creds.ServerCert), FileKey: string(creds.ServerKey),
		FileRsyncSecrets: must(RsyncSecrets([]PairAuth{creds.Pair(testSourceNS, testDestNS)})),
	}, 0o400)
	if err := os.MkdirAll(filepath.Join(p.dir, "mnt", module), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, argv := range [][]string{
		{"rsync", "--daemon", "--no-detach", "--config=" + filepath.Join(p.dir, "config", FileRsyncdConf)},
		{"stunnel", filepath.Join(p.dir, "config", FileStunnelConf)},
	} {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("%s output:\n%s", argv[0], out.String())
			}
		})
	}
	waitListening(t, p.stunnelPort)
	waitListening(t, p.rsyncPort)
	return p
}

func waitListening(t *testing.T, port int) {
	t.Helper()
	for range 100 {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %d", port)
}

// runClient copies src to the module of server with the client identity of creds and returns
// the exit code and output of the client script.
func runClient(ctx context.Context, t *testing.T, creds *Credentials, server testPaths, port int, module, src string) (int, string) {
	t.Helper()
	_ = server
	return runClientVia(ctx, t, creds, Endpoint{Host: "127.0.0.1", Port: port}, module, src)
}

// runClientVia is runClient through the endpoint e.
func runClientVia(ctx context.Context, t *testing.T, creds *Credentials, e Endpoint, module, src string) (int, string) {
	t.Helper()
	p := testPaths{dir: t.TempDir()}
	writeFiles(t, filepath.Join(p.dir, "config"), map[string]string{
		FileStunnelConf: p.rewrite(must(ClientStunnelConf(e, nil))),
	}, 0o644)
	writeFiles(t, filepath.Join(p.dir, "secret"), map[string]string{
		FileCACert: string(creds.CACert), FileCert: string(creds.ClientCert), FileKey: string(creds.ClientKey),
	}, 0o400)
	if err := os.MkdirAll(filepath.Join(p.dir, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, filepath.Join(p.dir, "mnt", "source")); err != nil {
		if err := os.MkdirAll(filepath.Join(p.dir, "mnt"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(src, filepath.Join(p.dir, "mnt", "source")); err != nil {
			t.Fatal(err)
		}
	}
	pair := creds.Pair(testSourceNS, testDestNS)
	args := ClientArgs(DefaultRsyncOptions(), pair.User, module, false)
	for i := range args {
		args[i] = p.rewrite(args[i])
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", p.rewrite(ClientScript), "rsync"}, args...)...)
	cmd.Env = append(os.Environ(), "RSYNC_PASSWORD="+pair.Password, "RSYNC_CONNECT_PROG="+p.rewrite(ConnectProg))
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		code = -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
	}
	return code, string(out)
}

func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"rsync", "stunnel", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (make packages installs it)", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatal("the transfer tests run as root: the rsync daemon keeps owners as root only")
	}
}

// newTransport starts the server of a fresh migration with one module and returns it with
// the credentials, the module and an empty source directory.
func newTransport(t *testing.T) (context.Context, *Credentials, string, testPaths, string) {
	t.Helper()
	needTools(t)
	creds, err := NewCredentials("a", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	module := Module("data")
	return t.Context(), creds, module, startServer(t.Context(), t, creds, module), t.TempDir()
}

func TestTransportCopiesThroughVerifiedTLS(t *testing.T) {
	ctx, creds, module, server, src := newTransport(t)
	writeFiles(t, src, map[string]string{"a.txt": "hello", "b.bin": strings.Repeat("x", 1<<20)}, 0o640)
	if err := os.Symlink("a.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/../etc/hostname", filepath.Join(src, "absolute")); err != nil {
		t.Fatal(err)
	}
	code, out := runClient(ctx, t, creds, server, server.stunnelPort, module, src)
	if code != 0 {
		t.Fatalf("client exit %d:\n%s", code, out)
	}
	got, err := os.ReadFile(filepath.Join(server.dir, "mnt", module, "a.txt"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("a.txt = %q, %v", got, err)
	}
	if target, err := os.Readlink(filepath.Join(server.dir, "mnt", module, "link")); err != nil || target != "a.txt" {
		t.Fatalf("link -> %q, %v", target, err)
	}
	if target, err := os.Readlink(filepath.Join(server.dir, "mnt", module, "absolute")); err != nil || target != "/etc/../etc/hostname" {
		t.Fatalf("absolute -> %q, %v", target, err)
	}
	stats, ok := ParseStats(out)
	if !ok || stats.RegularFilesTransferred != 2 {
		t.Fatalf("stats %+v (%v) from:\n%s", stats, ok, out)
	}
	if strings.Contains(out, SparseMarker) {
		t.Errorf("rsync --sparse (half speed) for a volume without sparse files:\n%s", out)
	}
	// A second run moves nothing.
	code, out = runClient(ctx, t, creds, server, server.stunnelPort, module, src)
	stats, _ = ParseStats(out)
	if code != 0 || stats.RegularFilesTransferred != 0 {
		t.Fatalf("second run: exit %d, stats %+v:\n%s", code, stats, out)
	}
}

func TestTransportKeepsSparseFilesSparse(t *testing.T) {
	ctx, creds, module, server, src := newTransport(t)
	writeFiles(t, src, map[string]string{"plain.txt": "hello"}, 0o644)
	// 128 MiB with two short writes: find reports its sparseness as 6.10352e-05.
	f, err := os.Create(filepath.Join(src, "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		at   int64
		data string
	}{{0, "start"}, {64 << 20, "middle"}} {
		if _, err := f.WriteAt([]byte(w.data), w.at); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(f.Truncate(128<<20), f.Close()); err != nil {
		t.Fatal(err)
	}
	code, out := runClient(ctx, t, creds, server, server.stunnelPort, module, src)
	if code != 0 {
		t.Fatalf("client exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, SparseMarker) {
		t.Errorf("no %q in the output:\n%s", SparseMarker, out)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(server.dir, "mnt", module, "disk.img"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 128<<20 || st.Blocks*512 > 1<<20 {
		t.Errorf("disk.img arrived with size %d and %d bytes allocated, want 128 MiB kept sparse", st.Size, st.Blocks*512)
	}
}

func TestTransportRefusesAnotherMigrationsClient(t *testing.T) {
	needTools(t)
	ctx := t.Context()
	creds, err := NewCredentials("a", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCredentials("b", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	module := Module("data")
	server := startServer(ctx, t, creds, module)
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"a.txt": "hello"}, 0o644)
	// Another migration's client, even trusting this server and knowing the password, is
	// refused by the server's TLS.
	intruder := *other
	intruder.CACert, intruder.Password = creds.CACert, creds.Password
	code, out := runClient(ctx, t, &intruder, server, server.stunnelPort, module, src)
	if code == 0 {
		t.Fatalf("a client of another migration copied data:\n%s", out)
	}
	// The server's own certificate does not work as a client certificate (key usage).
	thief := *creds
	thief.ClientCert, thief.ClientKey = creds.ServerCert, creds.ServerKey
	if code, out := runClient(ctx, t, &thief, server, server.stunnelPort, module, src); code == 0 {
		t.Fatalf("the server certificate worked as a client certificate:\n%s", out)
	}
	// Under TLS 1.3 the server judges the client's certificate after the client's handshake
	// has ended: the client names the refusal when the server's alert reaches it before the
	// connection is reset, and otherwise sees only the reset (it cannot tell more).
	if f := Classify(code, out); f.Kind != FailureTLS && strings.Contains(out, "alert") {
		t.Errorf("classified as %+v, want TLS:\n%s", f, out)
	}
	t.Log(Classify(code, out).Message)
	if _, err := os.Stat(filepath.Join(server.dir, "mnt", module, "a.txt")); err == nil {
		t.Fatal("the refused client's file arrived")
	}
}

func TestTransportUnreachableEndpoint(t *testing.T) {
	needTools(t)
	ctx := t.Context()
	creds, err := NewCredentials("a", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	code, out := runClient(ctx, t, creds, testPaths{}, freePort(t), Module("data"), src)
	if code == 0 {
		t.Fatalf("copied to nowhere:\n%s", out)
	}
	if f := Classify(code, out); f.Kind != FailureUnreachable {
		t.Errorf("classified as %+v, want unreachable:\n%s", f, out)
	}
	t.Log(Classify(code, out).Message)
}

func TestTransportClientRefusesAnotherMigrationsServer(t *testing.T) {
	needTools(t)
	ctx := t.Context()
	creds, err := NewCredentials("a", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCredentials("b", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	module := Module("data")
	server := startServer(ctx, t, other, module)
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"secret.txt": "do not leak"}, 0o644)
	impostor := *creds
	impostor.Password = other.Password
	code, out := runClient(ctx, t, &impostor, server, server.stunnelPort, module, src)
	if code == 0 {
		t.Fatalf("the client sent data to another migration's server:\n%s", out)
	}
	if f := Classify(code, out); f.Kind != FailureTLS {
		t.Errorf("classified as %+v, want TLS:\n%s", f, out)
	}
	t.Log(Classify(code, out).Message)
}

// TestTransportFallsBackToTheNextNode: a NodePort endpoint lists several nodes; when the
// first does not answer, stunnel connects to the next.
func TestTransportFallsBackToTheNextNode(t *testing.T) {
	ctx, creds, module, server, src := newTransport(t)
	writeFiles(t, src, map[string]string{"a.txt": "hello"}, 0o644)
	// The server listens on 127.0.0.1 only: 127.0.0.2 and 127.0.0.3 refuse the port.
	e := Endpoint{Host: "127.0.0.2", Port: server.stunnelPort, Fallbacks: []string{"127.0.0.3", "127.0.0.1"}}
	code, out := runClientVia(ctx, t, creds, e, module, src)
	if code != 0 {
		t.Fatalf("client exit %d:\n%s", code, out)
	}
	if got, err := os.ReadFile(filepath.Join(server.dir, "mnt", module, "a.txt")); err != nil || string(got) != "hello" {
		t.Fatalf("a.txt = %q, %v", got, err)
	}
}
