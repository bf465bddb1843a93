package images

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// The tests build each image with two Builders and compare digests. The second takes the
// first's manager binary: relinking the manager costs a minute on a loaded CI machine and
// would test the Go toolchain's reproducibility (which -trimpath gives) rather than ours.
var (
	firstOnce sync.Once
	first     *Builder
	firstErr  error
)

func builders(t *testing.T) (*Builder, *Builder) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the image tests unpack images and chroot into them: run them as root")
	}
	ctx := context.Background()
	firstOnce.Do(func() { first, firstErr = New(ctx, Options{Logf: t.Logf}) })
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	manager, err := first.ManagerBinary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := New(ctx, Options{ManagerBinary: manager, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	return first, second
}

// buildTwice builds the image called name with both builders and fails unless the two are
// the same image (digest), which it returns with its config.
func buildTwice(t *testing.T, name string) (v1.Image, *v1.ConfigFile) {
	t.Helper()
	b1, b2 := builders(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	img1, err := b1.Build(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	img2, err := b2.Build(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	d1, err := img1.Digest()
	if err != nil {
		t.Fatal(err)
	}
	d2, err := img2.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		m1, _ := img1.RawManifest()
		m2, _ := img2.RawManifest()
		t.Fatalf("%s: two builds differ: %s and %s\n%s\n%s", name, d1, d2, m1, m2)
	}
	size, err := Size(img1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s, %.1f MiB, built twice in %s", name, d1, float64(size)/(1<<20), time.Since(start).Round(time.Second))
	cfg, err := img1.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != NonrootUser {
		t.Errorf("%s: USER %q, want %q", name, cfg.Config.User, NonrootUser)
	}
	for _, l := range []string{LabelSource, LabelRevision, LabelVersion, LabelTitle, LabelLicenses, LabelCreated} {
		if cfg.Config.Labels[l] == "" {
			t.Errorf("%s: no label %s (labels %v)", name, l, cfg.Config.Labels)
		}
	}
	if !cfg.Created.Equal(b1.Created()) {
		t.Errorf("%s: created %s, want the commit's time %s", name, cfg.Created, b1.Created())
	}
	return img1, cfg
}

// unpack writes img's file system to a new directory (GNU tar keeps owners and modes when
// run as root) and returns it.
func unpack(t *testing.T, img v1.Image) string {
	t.Helper()
	dir := t.TempDir()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	cmd := exec.Command("tar", "-x", "-C", dir)
	cmd.Stdin = rc
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unpack: %v\n%s", err, out)
	}
	// What a runtime provides: /dev/null (stunnel opens it), an empty /dev otherwise.
	if err := os.MkdirAll(filepath.Join(dir, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(filepath.Join(dir, "dev", "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "dev", "null"), 0o666); err != nil { //nolint:gosec // /dev/null.
		t.Fatal(err)
	}
	return dir
}

// runIn runs argv chrooted into root as the images' nonroot user and returns its output.
func runIn(t *testing.T, root string, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = "/"
	cmd.Env = []string{defaultPath, "HOME=/home/nonroot"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: Nonroot, Gid: Nonroot}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s in the image: %v\n%s", strings.Join(argv, " "), err, out.String())
	}
	return out.String()
}

func TestManagerImage(t *testing.T) {
	img, cfg := buildTwice(t, Manager)
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/manager"}) {
		t.Errorf("entrypoint %q, want /manager (the Dockerfile's)", cfg.Config.Entrypoint)
	}
	root := unpack(t, img)
	passwd, err := os.ReadFile(filepath.Join(root, "etc", "passwd"))
	if err != nil || !strings.Contains(string(passwd), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd does not name nonroot: %q %v", passwd, err)
	}
	if out := runIn(t, root, "/manager", "--help"); !strings.Contains(out, "-leader-elect") {
		t.Errorf("/manager --help in the image printed %q", out)
	}
}

func TestTransferImage(t *testing.T) {
	img, cfg := buildTwice(t, Transfer)
	if len(cfg.Config.Entrypoint) != 0 || len(cfg.Config.Cmd) != 0 {
		t.Errorf("entrypoint %q, cmd %q: pods set the transfer image's command", cfg.Config.Entrypoint, cfg.Config.Cmd)
	}
	packages := cfg.Config.Labels[LabelPackages]
	for _, p := range []string{"rsync=", "stunnel4=", "libc6=", "dash="} {
		if !strings.Contains(packages, p) {
			t.Errorf("label %s %q names no %s", LabelPackages, packages, p)
		}
	}
	root := unpack(t, img)
	if out := runIn(t, root, "rsync", "--version"); !strings.HasPrefix(out, "rsync  version") {
		t.Errorf("rsync --version in the image printed %q", out)
	}
	if out := runIn(t, root, "stunnel", "-version"); !strings.Contains(out, "stunnel 5.") || strings.Contains(out, "must be installed") {
		t.Errorf("stunnel -version in the image printed %q", out)
	}
	// What pkg/transfer's client script runs besides rsync.
	out := runIn(t, root, "/bin/sh", "-c", `find /usr/bin -maxdepth 0 -printf '%y %S\n' | wc -l; echo x | grep -c x; cat /etc/group | tail -n 1`)
	if out != "1\n1\nnonroot:x:65532:\n" {
		t.Errorf("sh, find, wc, grep, cat and tail in the image printed %q", out)
	}
	if info, err := os.Stat(filepath.Join(root, transferWorkDir)); err != nil || !info.IsDir() {
		t.Errorf("/%s: %v", transferWorkDir, err)
	}
}

func TestVeleroImage(t *testing.T) {
	img, cfg := buildTwice(t, Velero)
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/velero"}) {
		t.Errorf("entrypoint %q, want /velero", cfg.Config.Entrypoint)
	}
	root := unpack(t, img)
	if out := runIn(t, root, "/velero", "version", "--client-only"); !strings.Contains(out, cfg.Config.Labels[LabelVersion]) {
		t.Errorf("velero version in the image printed %q, want %s", out, cfg.Config.Labels[LabelVersion])
	}
}

// TestVeleroPluginImage runs the plugin image's entrypoint as Velero's install runs its init
// container: with an empty, writable /target, which must then hold the plugin.
func TestVeleroPluginImage(t *testing.T) {
	img, cfg := buildTwice(t, VeleroPlugin)
	root := unpack(t, img)
	target := filepath.Join(root, "target")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(target, Nonroot, Nonroot); err != nil {
		t.Fatal(err)
	}
	runIn(t, root, cfg.Config.Entrypoint...)
	want, err := os.ReadFile(filepath.Join(root, "plugins", veleroPlugin))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(target, veleroPlugin))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the entrypoint %q did not copy the plugin into /target: %v", cfg.Config.Entrypoint, err)
	}
	if info, err := os.Stat(filepath.Join(target, veleroPlugin)); err != nil || info.Mode().Perm()&0o111 == 0 {
		t.Errorf("the copied plugin is not executable: %v %v", info.Mode(), err)
	}
	entries, err := os.ReadDir(target)
	if err != nil || len(entries) != 1 {
		t.Errorf("/target holds %v, want the plugin alone", entries)
	}
}

// TestLayerConflict checks that a path given twice, differently, fails a layer instead of
// one silently winning.
func TestLayerConflict(t *testing.T) {
	if _, err := newLayer([]entry{file("etc/a", 0o644, []byte("1")), file("etc/a", 0o644, []byte("1"))}, time.Unix(0, 0)); err != nil {
		t.Errorf("the same file twice: %v", err)
	}
	if _, err := newLayer([]entry{file("etc/a", 0o644, []byte("1")), file("etc/a", 0o644, []byte("2"))}, time.Unix(0, 0)); err == nil {
		t.Error("two contents for etc/a made a layer")
	}
}

func TestParseDepends(t *testing.T) {
	got := parseDepends("libc6 (>= 2.34), systemd | systemd-sysusers, perl:any, netbase")
	want := [][]string{{"libc6"}, {"systemd", "systemd-sysusers"}, {"perl"}, {"netbase"}}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("clause %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestRelink(t *testing.T) {
	for _, c := range []struct{ orig, link, want string }{
		{"lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13", "libz.so.1.2.13"},
		{"usr/lib/x86_64-linux-gnu/libfoo.so", "../../../lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so.1"},
		{"bin/sh", "dash", "dash"},
		{"lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
	} {
		if got := relink(c.orig, mergedUsr(c.orig), c.link); got != c.want {
			t.Errorf("%s -> %s: got %s, want %s", c.orig, c.link, got, c.want)
		}
	}
}
