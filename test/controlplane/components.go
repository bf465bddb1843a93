package controlplane

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/ferrymtc/ferry/test/netutil"
)

// Option configures Start.
type Option func(*options)

type options struct {
	controllerManager, scheduler bool
	// namedCertificate are the names of WithNamedCertificate.
	namedCertificate []string
	// etcdMaxRequestBytes is WithEtcdMaxRequestBytes's limit (0: etcd's default, 1.5 MiB).
	etcdMaxRequestBytes int
}

// WithControllerManager also runs kube-controller-manager, so that Deployments get
// ReplicaSets and Pods, PVCs bind to PVs, namespaces finish deleting and default
// ServiceAccounts appear, as on a real cluster.
func WithControllerManager() Option { return func(o *options) { o.controllerManager = true } }

// WithEtcdMaxRequestBytes lowers etcd's limit on the size of one request (one object
// written), so that a test reaches it with hundreds of objects instead of thousands.
func WithEtcdMaxRequestBytes(n int) Option { return func(o *options) { o.etcdMaxRequestBytes = n } }

// WithScheduler also runs kube-scheduler, so that pods are bound to Ready nodes.
func WithScheduler() Option { return func(o *options) { o.scheduler = true } }

// componentStopTimeout bounds how long a component may take to exit on SIGTERM.
const componentStopTimeout = 10 * time.Second

// component is a running control-plane process besides etcd and kube-apiserver.
type component struct {
	name string
	cmd  *exec.Cmd
	dir  string
	done chan error
}

// componentEnv is what a component's flags are built from.
type componentEnv struct {
	dir, kubeconfig, ca, certDir string
	port                         int
}

// controllerManagerArgs are the kube-controller-manager flags that work against an envtest
// API server (see the toolchain notes): admin kubeconfig, loopback serving, the API server's
// service-account signing key, and no leader election.
func controllerManagerArgs(e componentEnv) []string {
	return []string{
		"--kubeconfig=" + e.kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(e.port),
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--controllers=*",
		"--enable-hostpath-provisioner",
		"--service-account-private-key-file=" + filepath.Join(e.certDir, "sa-signer.key"),
		"--root-ca-file=" + e.ca,
		"--flex-volume-plugin-dir=" + filepath.Join(e.dir, "flexvolume"),
		"--cert-dir=" + filepath.Join(e.dir, "certs"),
	}
}

func schedulerArgs(e componentEnv) []string {
	return []string{
		"--kubeconfig=" + e.kubeconfig,
		"--authentication-kubeconfig=" + e.kubeconfig,
		"--authorization-kubeconfig=" + e.kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(e.port),
		"--leader-elect=false",
		"--cert-dir=" + filepath.Join(e.dir, "certs"),
	}
}

// startComponent runs binary name from bin against cp, with its own directory (kubeconfig,
// CA, log), on a free loopback port, killed if the test process dies.
func (cp *ControlPlane) startComponent(bin, name string, args func(componentEnv) []string) error {
	dir, err := os.MkdirTemp("", "ferry-"+name+"-"+cp.Name+"-")
	if err != nil {
		return fmt.Errorf("create %s directory: %w", name, err)
	}
	e := componentEnv{dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig"), ca: filepath.Join(dir, "ca.crt"),
		certDir: cp.env.ControlPlane.APIServer.CertDir}
	if err := cp.WriteKubeconfig(e.kubeconfig); err != nil {
		return err
	}
	if err := os.WriteFile(e.ca, cp.CABundle(), 0o600); err != nil {
		return fmt.Errorf("write CA: %w", err)
	}
	if e.port, err = netutil.FreeLoopbackPort(); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return fmt.Errorf("create %s log: %w", name, err)
	}
	cmd := exec.Command(filepath.Join(bin, name), args(e)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	c := &component{name: name, cmd: cmd, dir: dir, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait(); _ = logFile.Close() }()
	select {
	case err := <-c.done:
		return fmt.Errorf("%s exited at start (log in %s): %w", name, dir, err)
	case <-time.After(time.Second):
	}
	cp.components = append(cp.components, c)
	return nil
}

func (c *component) stop() error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	var exit error
	select {
	case exit = <-c.done:
	case <-time.After(componentStopTimeout):
		_ = c.cmd.Process.Kill()
		exit = <-c.done
	}
	// The exit status after a signal says nothing useful; only the directory cleanup can fail.
	_ = exit
	if os.Getenv("FERRY_KEEP_LOGS") != "" {
		return nil
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remove %s directory: %w", c.name, err)
	}
	return nil
}

// stopComponents stops the components in reverse start order.
func (cp *ControlPlane) stopComponents() error {
	for i := len(cp.components) - 1; i >= 0; i-- {
		if err := cp.components[i].stop(); err != nil {
			return err
		}
	}
	cp.components = nil
	return nil
}
