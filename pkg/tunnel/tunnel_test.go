package tunnel

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
)

// upstream is a TLS HTTP server standing for the source's API server: the tunnel must carry
// its TLS end to end (the test's client verifies the upstream's own certificate).
func upstream(t *testing.T, body string) *httptest.Server {
	t.Helper()
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// startServer runs a server agent on tunnel (a fresh listener when nil) and returns its API
// listener's address.
func startServer(t *testing.T, creds Credentials, tunnel net.Listener) (*Server, string, context.CancelFunc) {
	t.Helper()
	cfg, err := creds.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	api := listen(t)
	s := &Server{TLS: cfg, Tunnel: tunnel, Listeners: map[Target]net.Listener{TargetAPI: api}, Health: listen(t), Log: testr.New(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return s, api.Addr().String(), stop
}

func startClient(t *testing.T, creds Credentials, server string, targets map[Target]string) {
	t.Helper()
	cfg, err := creds.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = (&Client{TLS: cfg, Server: server, Targets: targets, Log: testr.New(t)}).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// get fetches https://addr/ through the tunnel, verifying the upstream's certificate.
func get(up *httptest.Server, addr string) (string, error) {
	c := up.Client()
	c.Timeout = 5 * time.Second
	resp, err := c.Get("https://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTunnelCarriesTheSourceAPIAndReconnects(t *testing.T) {
	serverCreds, clientCreds, err := NewCredentials(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	up := upstream(t, "source api")
	tunnelL := listen(t)
	tunnelAddr := tunnelL.Addr().String()
	s, api, stop := startServer(t, serverCreds, tunnelL)

	if _, err := get(up, api); err == nil {
		t.Fatal("a connection without a tunnel client must be refused")
	}
	startClient(t, clientCreds, tunnelAddr, map[Target]string{TargetAPI: up.Listener.Addr().String()})
	eventually(t, "the client to connect", s.Connected)
	for i := range 3 {
		if body, err := get(up, api); err != nil || body != "source api" {
			t.Fatalf("request %d through the tunnel: %q, %v", i, body, err)
		}
	}
	resp, err := http.Get("http://" + s.Health.Addr().String() + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz while connected: %v %v", resp, err)
	}
	_ = resp.Body.Close()

	// The server restarts (same address, as a Service keeps it): the client comes back.
	stop()
	relisten, err := net.Listen("tcp", tunnelAddr)
	if err != nil {
		t.Fatal(err)
	}
	s2, api2, _ := startServer(t, serverCreds, relisten)
	eventually(t, "the client to reconnect", s2.Connected)
	if body, err := get(up, api2); err != nil || body != "source api" {
		t.Fatalf("after the server restarted: %q, %v", body, err)
	}
}

func TestTunnelRefusesForeignPeersAndTargets(t *testing.T) {
	serverCreds, clientCreds, err := NewCredentials(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, otherClient, err := NewCredentials(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	up := upstream(t, "source api")

	// A client of another tunnel's CA is refused at the handshake.
	tunnelL := listen(t)
	s, _, _ := startServer(t, serverCreds, tunnelL)
	cfg, err := otherClient.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	cfg.InsecureSkipVerify = true // only the server's check of the client is under test
	conn, err := tls.Dial("tcp", tunnelL.Addr().String(), cfg)
	if err == nil {
		// TLS 1.3 reports a refused client certificate on the first read.
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		_ = conn.Close()
	}
	if err == nil || s.Connected() {
		t.Fatalf("a client of another CA connected (err %v)", err)
	}

	// The client accepts only the tunnel's server: a server of another CA is refused.
	otherServer, _, err := NewCredentials(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	impostorL := listen(t)
	impostor, _, _ := startServer(t, otherServer, impostorL)
	clientCfg, err := clientCreds.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := tls.Dial("tcp", impostorL.Addr().String(), clientCfg); err == nil {
		_ = conn.Close()
		t.Fatal("the client's TLS configuration accepted a server of another CA")
	}
	// The agent itself keeps retrying and never gets a session with it.
	agent := &Client{TLS: clientCfg, Server: impostorL.Addr().String(), Targets: map[Target]string{TargetAPI: up.Listener.Addr().String()}, Log: testr.New(t)}
	if err := agent.connect(context.Background()); err == nil || impostor.Connected() {
		t.Fatalf("the client agent connected to a server of another CA (err %v)", err)
	}

	// A stream to a target the client does not serve (the registry here) is closed.
	reg := listen(t)
	s3cfg, _ := serverCreds.ServerTLS()
	l3 := listen(t)
	s3 := &Server{TLS: s3cfg, Tunnel: l3, Listeners: map[Target]net.Listener{TargetRegistry: reg}, Log: testr.New(t)}
	ctx, cancel := context.WithCancel(context.Background())
	s3done := make(chan struct{})
	go func() { defer close(s3done); _ = s3.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-s3done })
	startClient(t, clientCreds, l3.Addr().String(), map[Target]string{TargetAPI: up.Listener.Addr().String()})
	eventually(t, "the client to connect", s3.Connected)
	c, err := net.Dial("tcp", reg.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	b, err := io.ReadAll(c)
	if len(b) != 0 || (err != nil && !strings.Contains(err.Error(), "reset")) {
		t.Fatalf("a stream to an unserved target got %q, %v", b, err)
	}
}

func TestCredentialsIdentifyTheTunnel(t *testing.T) {
	server, client, err := NewCredentials(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if string(server.CA) != string(client.CA) {
		t.Error("both sides must trust the same CA")
	}
	if string(server.Cert) == string(client.Cert) || string(server.Key) == string(client.Key) {
		t.Error("each side has its own key and certificate")
	}
	for name, c := range map[string]Credentials{"server": server, "client": client} {
		if len(c.Data()) != 3 {
			t.Errorf("%s Secret data has %d keys", name, len(c.Data()))
		}
	}
}
