package velero

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/test/netutil"
	"github.com/ferrymtc/ferry/test/s3"
)

const (
	// DefaultBackupSyncPeriod is the --backup-sync-period when Options.BackupSyncPeriod is zero.
	// Velero checks it only once a minute (see doc.go).
	DefaultBackupSyncPeriod = 5 * time.Second
	// storeValidationFrequency is how often the server re-validates its storage location.
	storeValidationFrequency = 10 * time.Second
	// readyTimeout bounds how long the server may take to validate its storage location after
	// it starts; that normally takes a few seconds.
	readyTimeout = 90 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before killing the server.
	stopTimeout = 10 * time.Second
	// logTailBytes is how much of the server log goes into error messages.
	logTailBytes = 4 << 10
)

// Options configures a Velero server for one cluster.
type Options struct {
	// Kubeconfig is the path of an admin kubeconfig of the cluster
	// (controlplane.ControlPlane.WriteKubeconfig).
	Kubeconfig string
	// Namespace is Velero's namespace, such as "velero" or "openshift-migration"; it is created
	// when missing.
	Namespace string
	// S3 is the object store that holds the backups; servers of several clusters share it.
	S3 *s3.Server
	// Bucket is the bucket of S3 the BackupStorageLocation points at; it must exist.
	Bucket string
	// Prefix is the BackupStorageLocation's prefix in Bucket, empty for the bucket's root.
	// Velero refuses a location at a bucket's root once the bucket holds anything but its own
	// directories, so a bucket that other locations share (with prefixes, as Ferry's
	// MigStorage creates) needs one here too, or a server started again later finds its
	// location Unavailable.
	Prefix string
	// BackupSyncPeriod is the server's --backup-sync-period; DefaultBackupSyncPeriod when zero.
	BackupSyncPeriod time.Duration
	// ConcurrentBackups is the server's --concurrent-backups; Velero's default (1) when zero.
	ConcurrentBackups int
}

// Server is a running Velero server process.
type Server struct {
	// Namespace is the Velero namespace the server watches.
	Namespace string

	dir      string
	logPath  string
	cmd      *exec.Cmd
	exited   chan struct{}
	stopOnce sync.Once
	stopErr  error
}

// Start prepares the cluster for Velero (namespace, a placeholder Deployment velero with no
// replicas, the S3 credentials Secret, the BackupStorageLocation "default" on opts.Bucket and
// the velero.io/v2alpha1 CRDs), runs `velero server` against it and waits until the server has
// validated the storage location. Call Stop when done; a failed Start has already cleaned up
// the process and its files (what it created in the cluster stays).
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Kubeconfig == "" || opts.Namespace == "" || opts.S3 == nil || opts.Bucket == "" {
		return nil, errors.New("velero.Start needs Kubeconfig, Namespace, S3 and Bucket")
	}
	if opts.BackupSyncPeriod == 0 {
		opts.BackupSyncPeriod = DefaultBackupSyncPeriod
	}
	bin, pluginDir, err := Binaries()
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", opts.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", opts.Kubeconfig, err)
	}
	scheme, err := newScheme()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", opts.Kubeconfig, err)
	}
	if err := prepareCluster(ctx, c, opts); err != nil {
		return nil, err
	}

	s := &Server{Namespace: opts.Namespace}
	if s.dir, err = os.MkdirTemp("", "ferry-velero-"+opts.Namespace+"-"); err != nil {
		return nil, fmt.Errorf("create velero server directory: %w", err)
	}
	if err := s.launch(bin, pluginDir, opts); err != nil {
		_ = s.Stop()
		return nil, err
	}
	if err := s.waitReady(ctx, c); err != nil {
		err = fmt.Errorf("%w\nvelero log tail:\n%s", err, s.LogTail(logTailBytes))
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// launch starts `velero server` with its own TMPDIR and HOME under s.dir and its output in
// s.dir/velero.log.
func (s *Server) launch(bin, pluginDir string, opts Options) error {
	tmp := filepath.Join(s.dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("create velero TMPDIR: %w", err)
	}
	metrics, err := netutil.FreeLoopbackAddr()
	if err != nil {
		return err
	}
	profiler, err := netutil.FreeLoopbackAddr()
	if err != nil {
		return err
	}
	s.logPath = filepath.Join(s.dir, "velero.log")
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return fmt.Errorf("create velero log: %w", err)
	}
	s.cmd = exec.Command(bin, "server", //nolint:gosec // the binary and its arguments are the harness's own.
		"--kubeconfig="+opts.Kubeconfig,
		"--namespace="+opts.Namespace,
		"--plugin-dir="+pluginDir,
		"--metrics-address="+metrics,
		"--profiler-address="+profiler,
		"--backup-sync-period="+opts.BackupSyncPeriod.String(),
		"--store-validation-frequency="+storeValidationFrequency.String(),
		"--log-format=text",
	)
	if opts.ConcurrentBackups > 0 {
		s.cmd.Args = append(s.cmd.Args, fmt.Sprintf("--concurrent-backups=%d", opts.ConcurrentBackups))
	}
	s.cmd.Dir = s.dir
	s.cmd.Env = append(cleanEnv(), "TMPDIR="+tmp, "HOME="+s.dir)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	// Its own process group, so that Stop also reaches the plugin processes Velero starts;
	// Pdeathsig kills the server if the test process dies without calling Stop.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start %s server: %w", bin, err)
	}
	s.exited = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		_ = logFile.Close()
		close(s.exited)
	}()
	return nil
}

// waitReady waits until the server has validated the BackupStorageLocation and found it
// Available, which proves it reached both the API server and the object store. It fails at
// once when the server exits or finds the location Unavailable.
func (s *Server) waitReady(ctx context.Context, c client.Client) error {
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, readyTimeout, true, func(ctx context.Context) (bool, error) {
		select {
		case <-s.exited:
			return false, fmt.Errorf("velero server exited at start: %s", s.cmd.ProcessState)
		default:
		}
		ok, err := locationValidated(ctx, c, s.Namespace)
		if errors.Is(err, errUnavailable) {
			return false, err
		}
		lastErr = err // a failed read is retried until the deadline.
		return ok, nil
	})
	if err != nil {
		if lastErr != nil {
			err = fmt.Errorf("%w (last read: %w)", err, lastErr)
		}
		return fmt.Errorf("velero server in namespace %s: wait (at most %s) until it validates BackupStorageLocation %s Available: %w",
			s.Namespace, readyTimeout, LocationName, err)
	}
	return nil
}

// LogTail returns the whole lines among the last n bytes of the server's log, for failure
// messages. After Stop, which removes the log, it says that there is no log.
func (s *Server) LogTail(n int) string {
	f, err := os.Open(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no velero log: %v)", err)
	}
	defer func() { _ = f.Close() }()
	cut := false
	if st, err := f.Stat(); err == nil && st.Size() > int64(n) {
		if _, err := f.Seek(-int64(n), io.SeekEnd); err != nil {
			return fmt.Sprintf("(seek velero log: %v)", err)
		}
		cut = true
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(read velero log: %v)", err)
	}
	text := string(b)
	if i := strings.IndexByte(text, '\n'); cut && i >= 0 {
		text = text[i+1:] // drop the partial first line
	}
	return strings.TrimSpace(text)
}

// Stop stops the server and every process of its group (plugins), and removes its
// directory and log. It is safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			pgid := s.cmd.Process.Pid
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(stopTimeout):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				<-s.exited
			}
			// Plugin processes outlive the server for a moment; none may stay behind. The exit
			// status after a signal says nothing useful, so it is not reported.
			if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				s.stopErr = fmt.Errorf("kill velero process group %d: %w", pgid, err)
			}
		}
		if s.dir != "" {
			if err := os.RemoveAll(s.dir); err != nil && s.stopErr == nil {
				s.stopErr = fmt.Errorf("remove velero server directory: %w", err)
			}
		}
	})
	return s.stopErr
}

// cleanEnv is the harness's environment without settings that would change what the server
// talks to: AWS_* (credentials, profiles, endpoints: the storage location carries its own),
// KUBECONFIG (the server gets --kubeconfig) and VELERO_* (namespace and the like).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "VELERO_") ||
			strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "TMPDIR=") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
