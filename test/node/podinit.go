package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// podinitEnv carries a container's launch spec to the re-executed helper (see init).
const podinitEnv = "FERRY_NODE_PODINIT"

// startErrFD is the helper's end of the pipe through which it reports a failure before exec.
// It is close-on-exec, so the parent reads EOF once the container's command runs.
const startErrFD = 3

// launchSpec is what the helper needs to turn itself into a container.
type launchSpec struct {
	// Netns is the pod's network namespace path.
	Netns string
	// Hostname is the pod's name, set in the container's own UTS namespace.
	Hostname string
	// Dir is an empty host directory where the container's root is assembled.
	Dir string
	// Rootfs is the image's unpacked root file system, the container's root (through a
	// copy-on-write overlay); "" for the host's directories.
	Rootfs string
	// Shared are host directories bound into the root as themselves (a privileged
	// container's, see Options.SharedHostDirs).
	Shared []string
	// Hosts is written to the container's /etc/hosts.
	Hosts string
	// Mounts are bind mounts of host paths (symlinks resolved) into the container.
	Mounts []mountSpec
	// WorkingDir is the working directory inside the container ("" for /).
	WorkingDir string
	Argv       []string
	Env        []string
	// User is who the command runs as (nil: root).
	User *identity
}

type mountSpec struct {
	Source, Target string
	ReadOnly       bool
	// Termination marks the termination message file, which may sit under /dev (its usual
	// place, /dev/termination-log), where volumes may not.
	Termination bool
}

// init turns a process started by startContainer into the container: when the variable is
// set, this binary (whichever imports this package: a test binary, the demo) runs as a
// container's first process and never returns to main. The parent has already placed it in
// new mount, PID and UTS namespaces; it joins the pod's network namespace, builds a private
// root and execs the container's command.
func init() {
	raw, ok := os.LookupEnv(podinitEnv)
	if !ok {
		return
	}
	// The runtime keeps the main goroutine on the main thread during init; setns and exec
	// must happen on one thread.
	runtime.LockOSThread()
	var spec launchSpec
	err := json.Unmarshal([]byte(raw), &spec)
	if err == nil {
		err = spec.launch()
	}
	report := os.NewFile(startErrFD, "start-error")
	_, _ = fmt.Fprintf(report, "%v", err)
	_, _ = fmt.Fprintf(os.Stderr, "process node: start container: %v\n", err)
	os.Exit(128)
}

// launch builds the container and execs its command; it returns only on failure.
func (s *launchSpec) launch() error {
	syscall.CloseOnExec(startErrFD)
	ns, err := os.Open(s.Netns)
	if err != nil {
		return fmt.Errorf("open pod network namespace: %w", err)
	}
	if err := setns(ns); err != nil {
		return fmt.Errorf("join pod network namespace: %w", err)
	}
	_ = ns.Close()
	if err := syscall.Sethostname([]byte(s.Hostname)); err != nil {
		return fmt.Errorf("set hostname: %w", err)
	}
	root, layers := filepath.Join(s.Dir, "root"), filepath.Join(s.Dir, "layers")
	if s.Rootfs != "" {
		if err := s.buildImageRoot(root, layers); err != nil {
			return err
		}
	} else {
		if err := s.buildRoot(root, layers); err != nil {
			return err
		}
		if err := s.bindEtcFiles(root, layers); err != nil {
			return err
		}
		if err := s.bindShared(root); err != nil {
			return err
		}
	}
	if err := pivot(root); err != nil {
		return err
	}
	if err := s.mountVolumes(); err != nil {
		return err
	}
	if err := syscall.Unmount(oldRoot, syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host root: %w", err)
	}
	_ = os.Remove(oldRoot)
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	wd := s.WorkingDir
	if wd == "" {
		wd = "/"
	}
	if err := os.MkdirAll(wd, 0o755); err != nil {
		return fmt.Errorf("create working directory: %w", err)
	}
	if err := os.Chdir(wd); err != nil {
		return fmt.Errorf("enter working directory: %w", err)
	}
	if len(s.Argv) == 0 {
		return errors.New("the container has no command: set command (and args), or pull its image from a registry the node knows")
	}
	s.Env = withHome(s.Env, s.User)
	path, err := lookPath(s.Argv[0], s.Env)
	if err != nil {
		return err
	}
	if err := s.User.become(); err != nil {
		return err
	}
	return fmt.Errorf("exec %s: %w", path, syscall.Exec(path, s.Argv, s.Env))
}

// oldRoot is where the host root sits between pivot_root and its detach.
const oldRoot = "/.host"

// buildRoot assembles the container's root filesystem at root: a tmpfs whose top-level
// directories are copy-on-write overlays of the host's (upper layers on a second tmpfs under
// layers, so writes and new mount points stay in memory and vanish with the container),
// except /sys and /dev, bound from the host, and /proc, mounted fresh after pivot_root.
func (s *launchSpec) buildRoot(root, layers string) error {
	for _, dir := range []string{root, layers} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755"); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
		}
	}
	entries, err := os.ReadDir("/")
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		target := filepath.Join(root, name)
		switch {
		case e.Type()&os.ModeSymlink != 0:
			link, err := os.Readlink("/" + name)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case !e.IsDir():
			// Plain files at the top level (markers such as /.dockerenv) are left out.
		case name == "proc":
			if err := os.Mkdir(target, 0o555); err != nil {
				return err
			}
		case name == "sys" || name == "dev":
			if err := os.Mkdir(target, 0o755); err != nil {
				return err
			}
			if err := bindMount("/"+name, target, false); err != nil {
				return err
			}
		default:
			if err := overlay(name, target, layers); err != nil {
				// A file system overlayfs cannot stack on: share the host's directory.
				if berr := bindMount("/"+name, target, false); berr != nil {
					return fmt.Errorf("%w; bind instead: %w", err, berr)
				}
			}
		}
	}
	return os.Mkdir(filepath.Join(root, oldRoot), 0o700)
}

// bindEtcFiles binds the pod's own /etc/hosts and /etc/hostname over the host's (when the
// host has them), so nothing is written to the host's files even where /etc is shared.
func (s *launchSpec) bindEtcFiles(root, layers string) error {
	for name, content := range map[string]string{"hosts": s.Hosts, "hostname": s.Hostname + "\n"} {
		target := filepath.Join(root, "etc", name)
		if info, err := os.Lstat(target); err != nil || !info.Mode().IsRegular() {
			continue
		}
		source := filepath.Join(layers, name)
		if err := os.WriteFile(source, []byte(content), 0o644); err != nil {
			return err
		}
		if err := bindMount(source, target, false); err != nil {
			return err
		}
	}
	return nil
}

// bindShared binds each shared host directory over its copy-on-write view in root.
func (s *launchSpec) bindShared(root string) error {
	for _, dir := range s.Shared {
		dir = filepath.Clean(dir)
		if _, err := os.Stat(dir); err != nil {
			continue // nothing of the host's to share
		}
		target := filepath.Join(root, dir)
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
		if err := bindMount(dir, target, false); err != nil {
			return err
		}
	}
	return nil
}

func overlay(name, target, layers string) error {
	upper, work := filepath.Join(layers, "upper", name), filepath.Join(layers, "work", name)
	for _, dir := range []string{target, upper, work} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	info, err := os.Stat("/" + name)
	if err == nil {
		_ = os.Chmod(upper, info.Mode().Perm())
	}
	opts := fmt.Sprintf("lowerdir=/%s,upperdir=%s,workdir=%s", name, upper, work)
	if err := syscall.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("overlay /%s: %w", name, err)
	}
	return nil
}

func bindMount(source, target string, readOnly bool) error {
	if err := syscall.Mount(source, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", source, target, err)
	}
	if readOnly {
		if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("make %s read-only: %w", target, err)
		}
	}
	return nil
}

// pivot makes root the root of this mount namespace, with the host's at oldRoot.
func pivot(root string) error {
	if err := syscall.PivotRoot(root, filepath.Join(root, oldRoot)); err != nil {
		return fmt.Errorf("pivot_root to %s: %w", root, err)
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	return nil
}

// mountVolumes binds each volume (a host path, reached under oldRoot) at its mount path,
// parents before children. Mount paths resolve inside the new root, so a path through a
// symlink such as /var/run lands in the container, never on the host.
func (s *launchSpec) mountVolumes() error {
	mounts := append([]mountSpec(nil), s.Mounts...)
	sort.SliceStable(mounts, func(i, j int) bool {
		return strings.Count(filepath.Clean(mounts[i].Target), "/") < strings.Count(filepath.Clean(mounts[j].Target), "/")
	})
	for _, m := range mounts {
		target := filepath.Clean(m.Target)
		for _, special := range []string{"/proc", "/sys", "/dev", oldRoot} {
			if m.Termination && special == "/dev" {
				continue
			}
			if target == special || strings.HasPrefix(target, special+"/") {
				return fmt.Errorf("mount path %s: volumes under %s are not supported", target, special)
			}
		}
		source := filepath.Join(oldRoot, m.Source)
		info, err := os.Stat(source)
		if err != nil {
			return fmt.Errorf("volume source %s: %w", m.Source, err)
		}
		if info.IsDir() {
			err = os.MkdirAll(target, 0o755)
		} else {
			err = createFile(target)
		}
		if err != nil {
			return fmt.Errorf("create mount point %s: %w", target, err)
		}
		if err := bindMount(source, target, m.ReadOnly); err != nil {
			return err
		}
	}
	return nil
}

func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// withHome adds HOME to env when the container sets none, as container runtimes do: the home
// of the user in the container's /etc/passwd, else /. Programs such as kopia refuse to run
// without one.
func withHome(env []string, user *identity) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "HOME=") {
			return env
		}
	}
	uid := uint32(0)
	if user != nil {
		uid = user.UID
	}
	return append(env, "HOME="+passwdHome("/etc/passwd", uid))
}

// passwdHome is uid's home directory in the passwd file at path, or / when it has none.
func passwdHome(path string, uid uint32) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "/"
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Split(line, ":")
		if len(fields) >= 6 && fields[2] == strconv.FormatUint(uint64(uid), 10) && fields[5] != "" {
			return fields[5]
		}
	}
	return "/"
}

// lookPath finds argv0 on the PATH of the container's environment.
func lookPath(argv0 string, env []string) (string, error) {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			if err := os.Setenv("PATH", v); err != nil {
				return "", err
			}
		}
	}
	path, err := exec.LookPath(argv0)
	if err != nil {
		return "", fmt.Errorf("command %q: %w", argv0, err)
	}
	return path, nil
}
