package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/yamux"
	"golang.org/x/sync/errgroup"
)

// Target is what a stream reaches on the source: its first byte.
type Target byte

const (
	// TargetAPI is the source's API server.
	TargetAPI Target = 1
	// TargetRegistry is the source's image registry.
	TargetRegistry Target = 2
)

func (t Target) String() string {
	switch t {
	case TargetAPI:
		return "api"
	case TargetRegistry:
		return "registry"
	}
	return "unknown"
}

// handshakeTimeout bounds a TLS handshake and a stream's first byte: a peer that connects
// and says nothing is dropped.
const handshakeTimeout = 10 * time.Second

// Server is the destination's agent: it accepts the client agent's connection on Tunnel and
// forwards each connection accepted on Listeners through it, as a stream to the listener's
// target on the source.
type Server struct {
	TLS       *tls.Config
	Tunnel    net.Listener
	Listeners map[Target]net.Listener
	// Health, when set, serves /readyz: 200 while a client is connected.
	Health net.Listener
	Log    logr.Logger

	mu      sync.Mutex
	session *yamux.Session
	// clients are the takeOver goroutines, which Run waits for.
	clients sync.WaitGroup
}

// Run serves until ctx ends, then closes the listeners and the session.
func (s *Server) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	listeners := []net.Listener{s.Tunnel}
	g.Go(func() error { return s.acceptClients(ctx) })
	for target, l := range s.Listeners {
		listeners = append(listeners, l)
		g.Go(func() error { return s.acceptLocal(ctx, target, l) })
	}
	if s.Health != nil {
		listeners = append(listeners, s.Health)
		srv := &http.Server{Handler: http.HandlerFunc(s.readyz), ReadHeaderTimeout: handshakeTimeout}
		g.Go(func() error {
			if err := srv.Serve(s.Health); !errors.Is(err, http.ErrServerClosed) && ctx.Err() == nil {
				return err
			}
			return nil
		})
	}
	g.Go(func() error {
		<-ctx.Done()
		for _, l := range listeners {
			_ = l.Close()
		}
		if sess := s.current(); sess != nil {
			_ = sess.Close()
		}
		return nil
	})
	err := g.Wait()
	s.clients.Wait()
	return err
}

// Connected says whether a client agent is connected now.
func (s *Server) Connected() bool { return s.current() != nil }

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.Connected() {
		http.Error(w, "no tunnel client connected", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok"))
}

func (s *Server) current() *yamux.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.session
}

func (s *Server) acceptClients(ctx context.Context) error {
	for {
		conn, err := s.Tunnel.Accept()
		if errors.Is(err, net.ErrClosed) && ctx.Err() != nil {
			return nil //nolint:nilerr // Run closed the listener on shutdown: not an error
		} else if err != nil {
			return err
		}
		s.clients.Add(1)
		go func() {
			defer s.clients.Done()
			s.takeOver(ctx, conn)
		}()
	}
}

// takeOver authenticates a client connection and makes it the tunnel, closing the previous
// one: a client that reconnects (restarted, moved to another node) must not wait for the
// server to notice that its old connection is dead.
func (s *Server) takeOver(ctx context.Context, raw net.Conn) {
	log := s.Log.WithValues("client", raw.RemoteAddr().String())
	conn := tls.Server(raw, s.TLS)
	hsCtx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err := conn.HandshakeContext(hsCtx)
	cancel()
	if err != nil {
		log.Info("Refused a tunnel connection", "error", err.Error())
		_ = raw.Close()
		return
	}
	sess, err := yamux.Client(conn, sessionConfig())
	if err != nil {
		log.Error(err, "Start the tunnel session")
		_ = conn.Close()
		return
	}
	s.mu.Lock()
	old := s.session
	s.session = sess
	s.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	stop := context.AfterFunc(ctx, func() { _ = sess.Close() }) // shutdown ends the session
	defer stop()
	log.Info("Tunnel client connected")
	<-sess.CloseChan()
	s.mu.Lock()
	if s.session == sess {
		s.session = nil
	}
	s.mu.Unlock()
	log.Info("Tunnel client disconnected")
}

func (s *Server) acceptLocal(ctx context.Context, target Target, l net.Listener) error {
	for {
		conn, err := l.Accept()
		if errors.Is(err, net.ErrClosed) && ctx.Err() != nil {
			return nil //nolint:nilerr // Run closed the listener on shutdown: not an error
		} else if err != nil {
			return err
		}
		go s.forward(conn, target)
	}
}

// forward carries conn to target through the tunnel; without a tunnel it is closed at once,
// which a client sees as a refused connection, not a hang.
func (s *Server) forward(conn net.Conn, target Target) {
	sess := s.current()
	if sess == nil {
		_ = conn.Close()
		return
	}
	stream, err := sess.OpenStream()
	if err != nil {
		_ = conn.Close()
		return
	}
	if _, err := stream.Write([]byte{byte(target)}); err != nil {
		_ = conn.Close()
		_ = stream.Close()
		return
	}
	pipe(conn, stream)
}

// sessionConfig is yamux's default with keepalives every 10 s, so that a peer lost without a
// FIN (a node gone, a NAT entry expired) is noticed in seconds, not minutes.
func sessionConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.KeepAliveInterval = 10 * time.Second
	c.ConnectionWriteTimeout = 10 * time.Second
	c.LogOutput = nil
	c.Logger = discardLogger{}
	return c
}

// discardLogger silences yamux's own log lines: the agents log connections themselves.
type discardLogger struct{}

func (discardLogger) Print(...any)          {}
func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}
