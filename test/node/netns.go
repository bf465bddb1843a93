package node

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
)

// netnsDir is where `ip netns` keeps named network namespaces.
const netnsDir = "/run/netns"

// setns moves the calling thread into the namespace open as f.
func setns(f *os.File) error {
	if _, _, errno := syscall.Syscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); errno != 0 {
		return errno
	}
	return nil
}

// inNetns runs fn on an OS thread moved into the named network namespace, so that sockets fn
// creates belong to that namespace (they stay there after the thread moves back). The thread
// is discarded rather than reused if it cannot move back.
func inNetns(name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own network namespace: %w", err)
			return
		}
		defer func() { _ = orig.Close() }()
		target, err := os.Open(netnsDir + "/" + name)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open network namespace %s: %w", name, err)
			return
		}
		defer func() { _ = target.Close() }()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter network namespace %s: %w", name, err)
			return
		}
		ferr := fn()
		if err := setns(orig); err != nil {
			// Leave the thread locked: the runtime ends it when this goroutine returns.
			errc <- fmt.Errorf("leave network namespace %s: %w", name, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// listenIn opens a TCP listener on addr inside the named network namespace.
func listenIn(ctx context.Context, ns, addr string) (net.Listener, error) {
	var l net.Listener
	err := inNetns(ns, func() error {
		var err error
		l, err = (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on %s in %s: %w", addr, ns, err)
	}
	return l, nil
}

// dialIn opens a TCP connection to addr from inside the named network namespace; an empty ns
// dials from the host's.
func dialIn(ctx context.Context, ns, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	if ns == "" {
		return d.DialContext(ctx, "tcp", addr)
	}
	var c net.Conn
	err := inNetns(ns, func() error {
		var err error
		c, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return c, err
}

// writeSysctl sets a sysctl of the named network namespace (path under /proc/sys).
func writeSysctl(ns, path, value string) error {
	return inNetns(ns, func() error {
		return os.WriteFile("/proc/sys/"+path, []byte(value), 0o644)
	})
}

// ip runs iproute2's ip with args.
func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// addNetns creates a named network namespace with its loopback up.
func addNetns(ctx context.Context, name string) error {
	if err := ip(ctx, "netns", "add", name); err != nil {
		return err
	}
	return ip(ctx, "-n", name, "link", "set", "lo", "up")
}

// delNetns deletes a named network namespace; the links inside go with it.
func delNetns(ctx context.Context, name string) error {
	if _, err := os.Stat(netnsDir + "/" + name); os.IsNotExist(err) {
		return nil
	}
	return ip(ctx, "netns", "del", name)
}
