package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

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
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	began := time.Now()
	tmp, err := os.MkdirTemp("", "ferry-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if podtool, err = buildPodtool(tmp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	built := time.Since(began)
	for _, c := range []struct {
		name string
		into **cluster
	}{{"source", &source}, {"destination", &destination}} {
		cl, err := startCluster(c.name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer cl.stop()
		*c.into = cl
	}
	fmt.Printf("e2e: podtool built in %s, two clusters with process nodes ready in %s\n",
		built.Round(time.Millisecond), (time.Since(began) - built).Round(time.Millisecond))
	return m.Run()
}

func buildPodtool(dir string) (string, error) {
	root, err := controlplane.RepoRoot()
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

func startCluster(name string) (*cluster, error) {
	cp, err := controlplane.Start(name, controlplane.WithControllerManager(), controlplane.WithScheduler())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	n, err := node.Start(ctx, cp.Config, node.Options{Logf: func(format string, args ...any) {
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
