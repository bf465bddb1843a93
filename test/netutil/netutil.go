// Package netutil holds the network helpers the test harnesses share.
package netutil

import (
	"fmt"
	"net"
)

// FreeLoopbackAddr returns 127.0.0.1:<port> with a port that was free a moment ago. A process
// started right after may race another one for it; harnesses start their servers at once and
// report a bind failure clearly.
func FreeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("release port %s: %w", addr, err)
	}
	return addr, nil
}

// FreeLoopbackPort is FreeLoopbackAddr's port.
func FreeLoopbackPort() (int, error) {
	addr, err := FreeLoopbackAddr()
	if err != nil {
		return 0, err
	}
	tcp, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", addr, err)
	}
	return tcp.Port, nil
}
