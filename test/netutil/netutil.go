// Package netutil holds the network helpers the test harnesses share.
package netutil

import (
	"fmt"
	"math/rand/v2"
	"net"
)

// Harness ports are picked below the kernel's ephemeral range (32768-60999 by default), from
// which every listener on port 0 and every outgoing connection takes its port. A port handed
// out here is then not taken, between the moment it is found free and the moment its server
// binds it, by a test of another package that listens on port 0 (pkg/transfer's stunnel and
// rsync) while the suites run in parallel.
const harnessPortMin, harnessPortMax = 20000, 32000

// pickAttempts bounds the random picks before FreeLoopbackAddr falls back to port 0.
const pickAttempts = 100

// FreeLoopbackAddr returns 127.0.0.1:<port> with a port that was free a moment ago. A process
// started right after may race another one for it; harnesses start their servers at once and
// report a bind failure clearly.
func FreeLoopbackAddr() (string, error) {
	for range pickAttempts {
		port := harnessPortMin + rand.IntN(harnessPortMax-harnessPortMin) //nolint:gosec // a port number, not a secret.
		if addr, err := release(fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			return addr, nil
		}
	}
	return release("127.0.0.1:0")
}

// release listens on addr and closes at once, returning the address it got.
func release(addr string) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	got := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("release port %s: %w", got, err)
	}
	return got, nil
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
