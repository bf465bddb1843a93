package images

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferrymtc/ferry/hack/repo"
)

// Image names, as `go run ./hack/images/build` takes them.
const (
	Manager      = "manager"
	Transfer     = "transfer"
	Velero       = "velero"
	VeleroPlugin = "velero-plugin-for-aws"
)

// Names are every image the builder makes.
var Names = []string{Manager, Transfer, Velero, VeleroPlugin}

// sourceURL is the repository the images' source label names.
const sourceURL = "https://github.com/ferrymtc/ferry"

// Builder builds Ferry's images from one tree. Its binaries and .deb files are cached
// (Options.CacheDir), and each binary is built once per Builder.
type Builder struct {
	root     string
	cacheDir string
	// created is every time in the images: SOURCE_DATE_EPOCH, else the commit's time.
	created  time.Time
	revision string
	version  string
	logf     func(string, ...any)
	// managerBinary is Options.ManagerBinary.
	managerBinary string

	mu    sync.Mutex
	built map[string]*once
}

// once is a memoized build step.
type once struct {
	done chan struct{}
	val  string
	err  error
}

// Options configures New.
type Options struct {
	// Root is the repository's root; found from the working directory when empty.
	Root string
	// CacheDir holds built binaries and downloaded .deb files; <root>/bin/images/cache when
	// empty.
	CacheDir string
	// ManagerBinary is a static manager binary (CGO_ENABLED=0) the manager image takes
	// instead of building ./cmd/manager: a binary the caller built already.
	ManagerBinary string
	// Logf receives progress lines; nil discards them.
	Logf func(string, ...any)
}

// New returns a builder for the tree at opts.Root. The images' time is SOURCE_DATE_EPOCH
// when set, else the time of the checked-out commit; their revision is that commit (with
// "-dirty" when the tree has changes) and their version `git describe --tags --always`.
func New(ctx context.Context, opts Options) (*Builder, error) {
	b := &Builder{root: opts.Root, cacheDir: opts.CacheDir, logf: opts.Logf, managerBinary: opts.ManagerBinary, built: map[string]*once{}}
	if b.logf == nil {
		b.logf = func(string, ...any) {}
	}
	var err error
	if b.root == "" {
		if b.root, err = repo.Root(); err != nil {
			return nil, err
		}
	}
	if b.cacheDir == "" {
		b.cacheDir = filepath.Join(b.root, "bin", "images", "cache")
	}
	if err := os.MkdirAll(b.cacheDir, 0o755); err != nil {
		return nil, err
	}
	if b.revision, err = b.git(ctx, "rev-parse", "HEAD"); err != nil {
		return nil, err
	}
	status, err := b.git(ctx, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return nil, err
	}
	if status != "" {
		b.revision += "-dirty"
	}
	if b.version, err = b.git(ctx, "describe", "--tags", "--always", "--dirty"); err != nil {
		return nil, err
	}
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		if epoch, err = b.git(ctx, "log", "-1", "--format=%ct"); err != nil {
			return nil, err
		}
	}
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", epoch, err)
	}
	b.created = time.Unix(secs, 0).UTC()
	return b, nil
}

// Created is the time every image of b carries.
func (b *Builder) Created() time.Time { return b.created }

// Build builds the image called name (one of Names).
func (b *Builder) Build(ctx context.Context, name string) (v1.Image, error) {
	switch name {
	case Manager:
		return b.Manager(ctx)
	case Transfer:
		return b.Transfer(ctx)
	case Velero:
		return b.Velero(ctx)
	case VeleroPlugin:
		return b.VeleroPlugin(ctx)
	}
	return nil, fmt.Errorf("no image %q (images: %s)", name, strings.Join(Names, ", "))
}

// labels are the OCI labels of an image titled title, plus extra.
func (b *Builder) labels(title, licenses string, extra map[string]string) map[string]string {
	l := map[string]string{
		LabelSource: sourceURL, LabelRevision: b.revision, LabelVersion: b.version,
		LabelTitle: title, LabelLicenses: licenses, LabelCreated: b.created.Format(time.RFC3339),
	}
	maps.Copy(l, extra)
	return l
}

// memo runs fn once per key for the life of b; concurrent callers wait for the first.
func (b *Builder) memo(key string, fn func() (string, error)) (string, error) {
	b.mu.Lock()
	o, ok := b.built[key]
	if !ok {
		o = &once{done: make(chan struct{})}
		b.built[key] = o
	}
	b.mu.Unlock()
	if !ok {
		o.val, o.err = fn()
		close(o.done)
	}
	<-o.done
	return o.val, o.err
}

func (b *Builder) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = b.root
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, exitErr.Stderr)
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}
