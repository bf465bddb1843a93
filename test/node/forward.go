package node

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// dialTimeout bounds connecting to a forwarding target.
const dialTimeout = 5 * time.Second

// forwarder accepts TCP connections on a listener and pipes each one to a connection that dial
// opens (chosen per connection, so a Service's endpoints can change under it).
type forwarder struct {
	l    net.Listener
	dial func(context.Context) (net.Conn, error)

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func serveForward(l net.Listener, dial func(context.Context) (net.Conn, error)) *forwarder {
	f := &forwarder{l: l, dial: dial, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.accept()
	return f
}

func (f *forwarder) accept() {
	defer f.wg.Done()
	for {
		c, err := f.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if !f.track(c) {
			_ = c.Close()
			return
		}
		f.wg.Add(1)
		go f.pipe(c)
	}
}

func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.conns, c)
}

// pipe copies both ways until both directions are done, passing half-closes along.
func (f *forwarder) pipe(in net.Conn) {
	defer f.wg.Done()
	defer f.untrack(in)
	defer func() { _ = in.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	out, err := f.dial(ctx)
	cancel()
	if err != nil {
		return
	}
	if !f.track(out) {
		_ = out.Close()
		return
	}
	defer f.untrack(out)
	defer func() { _ = out.Close() }()
	done := make(chan struct{}, 2)
	half := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tcp, ok := dst.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		} else {
			_ = dst.Close()
		}
		done <- struct{}{}
	}
	go half(out, in)
	go half(in, out)
	<-done
	<-done
}

// cutConnections ends every open connection and keeps accepting new ones.
func (f *forwarder) cutConnections() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		_ = c.Close()
	}
}

// Close stops accepting, ends every open connection and waits for the goroutines.
func (f *forwarder) Close() {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	_ = f.l.Close()
	f.wg.Wait()
}
