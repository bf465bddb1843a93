package tunnel

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/yamux"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Client is the source's agent: it dials the server agent and serves the streams the server
// opens, each to the address of its target on the source.
type Client struct {
	TLS    *tls.Config
	Server string
	// Targets are the source addresses (host:port) streams reach; a stream to another target
	// is refused.
	Targets map[Target]string
	Log     logr.Logger
}

// Reconnect backoff: 1 s doubling to 30 s, reset after a connection that lasted a minute.
const (
	firstRetry = time.Second
	lastRetry  = 30 * time.Second
	lasted     = time.Minute
)

// Run keeps the tunnel up until ctx ends.
func (c *Client) Run(ctx context.Context) error {
	backoff := newBackoff()
	for {
		start := time.Now()
		err := c.connect(ctx)
		if ctx.Err() != nil {
			break
		}
		if time.Since(start) > lasted {
			backoff = newBackoff()
		}
		delay := backoff.Step()
		c.Log.Info("Tunnel down; reconnecting", "server", c.Server, "error", err.Error(), "in", delay.Round(time.Millisecond).String())
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
	return nil //nolint:nilerr // the loop ends when ctx does: a shutdown, not an error
}

func newBackoff() wait.Backoff {
	return wait.Backoff{Duration: firstRetry, Factor: 2, Jitter: 0.1, Steps: math.MaxInt32, Cap: lastRetry}
}

// connect holds one connection to the server until it breaks.
func (c *Client) connect(ctx context.Context) error {
	dialCtx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	dialer := &tls.Dialer{NetDialer: &net.Dialer{KeepAlive: 15 * time.Second}, Config: c.TLS}
	conn, err := dialer.DialContext(dialCtx, "tcp", c.Server)
	if err != nil {
		return fmt.Errorf("connect to the tunnel server %s: %w", c.Server, err)
	}
	sess, err := yamux.Server(conn, sessionConfig())
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("start the tunnel session: %w", err)
	}
	defer func() { _ = sess.Close() }()
	c.Log.Info("Tunnel connected", "server", c.Server)
	go func() {
		select {
		case <-ctx.Done():
			_ = sess.Close()
		case <-sess.CloseChan():
		}
	}()
	for {
		stream, err := sess.AcceptStream()
		if err != nil {
			return fmt.Errorf("tunnel session ended: %w", err)
		}
		go c.serve(ctx, stream)
	}
}

// serve reads the stream's target and carries the stream to it.
func (c *Client) serve(ctx context.Context, stream *yamux.Stream) {
	_ = stream.SetReadDeadline(time.Now().Add(handshakeTimeout))
	var b [1]byte
	if _, err := io.ReadFull(stream, b[:]); err != nil {
		_ = stream.Close()
		return
	}
	_ = stream.SetReadDeadline(time.Time{})
	target := Target(b[0])
	addr, ok := c.Targets[target]
	if !ok || addr == "" {
		c.Log.Info("Refused a stream to a target this agent does not serve", "target", target.String())
		_ = stream.Close()
		return
	}
	dialCtx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	var d net.Dialer
	up, err := d.DialContext(dialCtx, "tcp", addr)
	if err != nil {
		c.Log.Info("Could not reach the target", "target", target.String(), "address", addr, "error", err.Error())
		_ = stream.Close()
		return
	}
	pipe(stream, up)
}

// pipe copies both ways between a and b, passing each side's end of data on as a half
// close (TLS clients and servers close one direction first), and closes both when both
// directions are done.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	copyTo := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		closeWrite(dst)
		done <- struct{}{}
	}
	go copyTo(a, b)
	go copyTo(b, a)
	<-done
	<-done
	_ = a.Close()
	_ = b.Close()
}

// closeWrite ends c's write direction: TCP and TLS connections have CloseWrite; a yamux
// stream's Close is a half close (it sends FIN and keeps reading).
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}
