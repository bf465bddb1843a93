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

type options struct{ controllerManager bool }

// WithControllerManager also runs kube-controller-manager, so that Deployments get
// ReplicaSets and Pods, PVCs bind to PVs, namespaces finish deleting and default
// ServiceAccounts appear, as on a real cluster.
func WithControllerManager() Option { return func(o *options) { o.controllerManager = true } }

// kcmStopTimeout bounds how long kube-controller-manager may take to exit on SIGTERM.
const kcmStopTimeout = 10 * time.Second

// controllerManager is a running kube-controller-manager process.
type controllerManager struct {
	cmd  *exec.Cmd
	dir  string
	done chan error
}

// startControllerManager runs kube-controller-manager against cp with the flags that work
// against an envtest API server (see toolchain notes): admin kubeconfig, loopback serving,
// the API server's service-account signing key, and no leader election.
func (cp *ControlPlane) startControllerManager(bin string) error {
	dir, err := os.MkdirTemp("", "ferry-kcm-"+cp.Name+"-")
	if err != nil {
		return fmt.Errorf("create kube-controller-manager directory: %w", err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	ca := filepath.Join(dir, "ca.crt")
	if err := cp.WriteKubeconfig(kubeconfig); err != nil {
		return err
	}
	if err := os.WriteFile(ca, cp.CABundle(), 0o600); err != nil {
		return fmt.Errorf("write CA: %w", err)
	}
	port, err := netutil.FreeLoopbackPort()
	if err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(dir, "kube-controller-manager.log"))
	if err != nil {
		return fmt.Errorf("create kube-controller-manager log: %w", err)
	}
	cmd := exec.Command(filepath.Join(bin, "kube-controller-manager"),
		"--kubeconfig="+kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--controllers=*",
		"--enable-hostpath-provisioner",
		"--service-account-private-key-file="+filepath.Join(cp.env.ControlPlane.APIServer.CertDir, "sa-signer.key"),
		"--root-ca-file="+ca,
		"--flex-volume-plugin-dir="+filepath.Join(dir, "flexvolume"),
		"--cert-dir="+filepath.Join(dir, "certs"),
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start kube-controller-manager: %w", err)
	}
	kcm := &controllerManager{cmd: cmd, dir: dir, done: make(chan error, 1)}
	go func() { kcm.done <- cmd.Wait(); _ = logFile.Close() }()
	select {
	case err := <-kcm.done:
		return fmt.Errorf("kube-controller-manager exited at start (log in %s): %w", dir, err)
	case <-time.After(time.Second):
	}
	cp.kcm = kcm
	return nil
}

func (k *controllerManager) stop() error {
	if k == nil {
		return nil
	}
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	var exit error
	select {
	case exit = <-k.done:
	case <-time.After(kcmStopTimeout):
		_ = k.cmd.Process.Kill()
		exit = <-k.done
	}
	// The exit status after a signal says nothing useful; only the directory cleanup can fail.
	_ = exit
	return os.RemoveAll(k.dir)
}
