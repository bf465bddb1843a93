package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferrymtc/ferry/hack/repo"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/node"
)

// cluster is a local cluster of the suite: a control plane with kube-controller-manager and
// kube-scheduler, and one process node.
type cluster struct {
	*controlplane.ControlPlane
	node *node.Node
}

var (
	// source and destination are the two clusters every test shares (each test in its own
	// namespaces).
	source, destination *cluster
	// podtool is the path of the test's container command (test/node/cmd/podtool).
	podtool string
	// hostPort is the port of an HTTP server on the host's loopback that answers "from-host"
	// and that the source's pods reach through node.Options.LoopbackPorts.
	hostPort int
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) (code int) {
	began := time.Now()
	tmp, err := os.MkdirTemp("", "ferry-e2e-")
	if err != nil {
		return fail(err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if podtool, err = buildPodtool(tmp); err != nil {
		return fail(err)
	}
	built := time.Since(began)
	stopHost, err := hostServer()
	if err != nil {
		return fail(err)
	}
	defer stopHost()

	// Both clusters start at once; a control plane takes several seconds.
	results := make(chan error, 2)
	for _, c := range []struct {
		name  string
		into  **cluster
		ports []int
	}{{"source", &source, []int{hostPort}}, {"destination", &destination, nil}} {
		go func() {
			cl, err := startCluster(c.name, c.ports)
			*c.into = cl
			results <- err
		}()
	}
	errs := []error{<-results, <-results}
	defer func() {
		for _, c := range []*cluster{source, destination} {
			if c != nil {
				c.stop()
			}
		}
		if leftovers := leftovers(); len(leftovers) > 0 {
			fmt.Fprintf(os.Stderr, "e2e: the process nodes left behind: %s\n", strings.Join(leftovers, ", "))
			code = 1
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	fmt.Printf("e2e: podtool built in %s, two clusters with process nodes ready in %s\n",
		built.Round(time.Millisecond), (time.Since(began) - built).Round(time.Millisecond))
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "e2e:", err)
	return 1
}

func buildPodtool(dir string) (string, error) {
	root, err := repo.Root()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "podtool")
	cmd := exec.Command("go", "build", "-o", out, "./test/node/cmd/podtool")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build podtool: %w: %s", err, b)
	}
	return out, nil
}

// hostServer starts the loopback server that hostPort names.
func hostServer() (stop func(), err error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hostPort = l.Addr().(*net.TCPAddr).Port
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "from-host")
	})}
	go func() { _ = srv.Serve(l) }()
	return func() { _ = srv.Close() }, nil
}

func startCluster(name string, loopbackPorts []int) (*cluster, error) {
	cp, err := controlplane.Start(name, controlplane.WithControllerManager(), controlplane.WithScheduler())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	n, err := node.Start(ctx, cp.Config, node.Options{LoopbackPorts: loopbackPorts, Logf: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, name+": "+format+"\n", args...)
	}})
	if err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("start node of %s: %w", name, err)
	}
	fmt.Printf("e2e: node of %s started in %s\n", name, time.Since(began).Round(time.Millisecond))
	return &cluster{ControlPlane: cp, node: n}, nil
}

func (c *cluster) stop() {
	if err := c.node.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop node of %s: %v\n", c.Name, err)
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop %s: %v\n", c.Name, err)
	}
}

// leftovers lists the network namespaces and directories of this process's nodes that
// still exist once they stopped.
func leftovers() []string {
	prefix := "ferrynode-" + strconv.Itoa(os.Getpid()) + "-"
	var out []string
	for _, dir := range []string{"/run/netns", os.TempDir()} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}
