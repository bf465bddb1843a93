// Command image measures image copies (make bench-image): an "ImageStream" of tags whose
// images share base layers, pushed to a source CNCF distribution registry, copied to a fresh
// destination registry by Ferry's pkg/imagecopy (all tags in one call, by digest then tag, as
// the DirectImageStreamMigration controller does) and by `skopeo sync` (what crane's
// skopeo-sync-gen users run), in alternating rounds. It prints the median times, the bytes
// each stored at the destination, Ferry's time for a second copy with nothing new, and the
// ratio of Ferry's median to skopeo's (target at most 0.8).
//
// Both tools meet the same registries: the pinned distribution registry (bin/registry) on
// loopback, plain HTTP by default or TLS with -tls, filesystem storage, no authentication; each
// run gets a fresh destination registry (new port and storage, so skopeo's blob-info cache
// knows nothing of it).
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/ferrymtc/ferry/pkg/imagecopy"
	"github.com/ferrymtc/ferry/pkg/imagecopy/registrytest"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// config is the benchmark's shape.
type config struct {
	tags, baseLayers, uniqueLayers int
	baseSize, uniqueSize           int
	rounds, jobs                   int
	tls                            bool
	skopeo, dir, cpuProfile        string
}

func main() {
	var c config
	var baseMiB, uniqueMiB float64
	flag.IntVar(&c.tags, "tags", 10, "Tags of the image stream (one image each).")
	flag.IntVar(&c.baseLayers, "base-layers", 3, "Base layers every image shares.")
	flag.Float64Var(&baseMiB, "base-mib", 10, "Size of each base layer, in MiB.")
	flag.IntVar(&c.uniqueLayers, "unique-layers", 2, "Layers of each image's own.")
	flag.Float64Var(&uniqueMiB, "unique-mib", 12, "Size of each image's own layers, in MiB.")
	flag.IntVar(&c.rounds, "rounds", 3, "Rounds; each copies with both tools to fresh destinations.")
	flag.IntVar(&c.jobs, "jobs", settings.DefaultImageCopyParallelism, "Ferry's parallel blobs (the MigrationController's default image_copy_parallelism).")
	flag.BoolVar(&c.tls, "tls", false, "Serve both registries over TLS (a CA of their own) instead of plain HTTP.")
	flag.StringVar(&c.skopeo, "skopeo", "skopeo", "The skopeo executable.")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "Write a CPU profile of this process (Ferry's copies; skopeo runs in its own) to this file.")
	flag.StringVar(&c.dir, "state-dir", ".ferry/bench-image", "Where the registries' configuration and storage go (removed at the end).")
	flag.Parse()
	c.baseSize, c.uniqueSize = int(baseMiB*(1<<20)), int(uniqueMiB*(1<<20))
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench-image failed:", err)
		os.Exit(1)
	}
}

// runStats is one timed copy.
type runStats struct {
	time, again time.Duration
	stored      int64
}

func run(c config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	bin, ok := registrytest.Binary(".")
	if !ok {
		return fmt.Errorf("the registry binary %s is not built: run make registry", bin)
	}
	skopeoVersion, err := exec.Command(c.skopeo, "--version").Output()
	if err != nil {
		return fmt.Errorf("%s --version: %w", c.skopeo, err)
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	dir, err := os.MkdirTemp(c.dir, "run-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	b := &bench{c: c, bin: bin, dir: dir}

	start := time.Now()
	st, err := newStream(c.tags, c.baseLayers, c.baseSize, c.uniqueLayers, c.uniqueSize)
	if err != nil {
		return fmt.Errorf("build the images: %w", err)
	}
	transport := "HTTP"
	if c.tls {
		transport = "TLS"
	}
	fmt.Printf("image stream: %d tags x (%d shared base layers of %.1f MiB + %d own layers of %.1f MiB), %s of distinct blobs (built in %s)\n",
		c.tags, c.baseLayers, mib(int64(c.baseSize)), c.uniqueLayers, mib(int64(c.uniqueSize)), size(st.bytes), time.Since(start).Round(time.Millisecond))
	fmt.Printf("registries: distribution (bin/registry) over %s on loopback; Ferry jobs %d; %s", transport, c.jobs, skopeoVersion)
	if b.src, err = b.registry(ctx, "source"); err != nil {
		return err
	}
	defer b.src.Stop()
	if b.images, err = push(ctx, b.src, st); err != nil {
		return err
	}

	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var ferry, skopeo []runStats
	fmt.Println("moved = the blobs stored at the destination registry after the run (the same measure for both tools)")
	fmt.Printf("%-6s %-7s %9s %12s %10s\n", "round", "tool", "time", "moved", "MiB/s")
	for round := range c.rounds {
		tools := []string{"ferry", "skopeo"}
		if round%2 == 1 {
			slices.Reverse(tools)
		}
		for _, tool := range tools {
			var s runStats
			if tool == "ferry" {
				s, err = b.ferry(ctx, round)
				ferry = append(ferry, s)
			} else {
				s, err = b.skopeo(ctx, round)
				skopeo = append(skopeo, s)
			}
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round+1, tool, err)
			}
			fmt.Printf("%-6d %-7s %9s %12s %10.1f\n", round+1, tool, s.time.Round(time.Millisecond), size(s.stored), mib(s.stored)/s.time.Seconds())
		}
	}
	f, s := median(ferry, func(r runStats) time.Duration { return r.time }), median(skopeo, func(r runStats) time.Duration { return r.time })
	fmt.Printf("ferry  (pkg/imagecopy, 1 call for all tags): median %s, moved %s; second run (nothing new): median %s\n",
		f.Round(time.Millisecond), size(ferry[0].stored), median(ferry, func(r runStats) time.Duration { return r.again }).Round(time.Millisecond))
	fmt.Printf("skopeo (sync --src docker --dest docker):     median %s, moved %s; second run (nothing new): median %s\n",
		s.Round(time.Millisecond), size(skopeo[0].stored), median(skopeo, func(r runStats) time.Duration { return r.again }).Round(time.Millisecond))
	fmt.Printf("ratio %.2f (ferry/skopeo); target: at most 0.8\n", f.Seconds()/s.Seconds())
	fmt.Printf("image_ferry_seconds %.2f\nimage_skopeo_seconds %.2f\nimage_ratio_ferry_skopeo %.2f\n", f.Seconds(), s.Seconds(), f.Seconds()/s.Seconds())
	return nil
}

// bench holds what the runs share.
type bench struct {
	c      config
	bin    string
	dir    string
	src    *registrytest.Registry
	images []imagecopy.Image
}

// registry starts a registry with storage in a directory of its own.
func (b *bench) registry(ctx context.Context, name string) (*registrytest.Registry, error) {
	d := filepath.Join(b.dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	return registrytest.Start(ctx, registrytest.Options{Binary: b.bin, Dir: d, TLS: b.c.tls})
}

// endpoint is how Ferry reaches r.
func endpoint(r *registrytest.Registry) imagecopy.Endpoint {
	return imagecopy.Endpoint{Host: r.Host, PlainHTTP: r.CA == nil, CABundle: r.CA}
}

// ferry copies every tag with pkg/imagecopy to a fresh destination, then again.
func (b *bench) ferry(ctx context.Context, round int) (runStats, error) {
	dst, err := b.registry(ctx, fmt.Sprintf("ferry-%d", round))
	if err != nil {
		return runStats{}, err
	}
	defer dst.Stop()
	var s runStats
	copyAll := func() (imagecopy.Result, time.Duration, error) {
		start := time.Now()
		src, err := imagecopy.NewRegistry(endpoint(b.src))
		if err != nil {
			return imagecopy.Result{}, 0, err
		}
		defer src.CloseIdleConnections()
		to, err := imagecopy.NewRegistry(endpoint(dst))
		if err != nil {
			return imagecopy.Result{}, 0, err
		}
		defer to.CloseIdleConnections()
		res, err := (&imagecopy.Copier{Jobs: b.c.jobs}).CopyImages(ctx, src, to, "ns2/app", b.images)
		return res, time.Since(start), err
	}
	res, d, err := copyAll()
	if err != nil {
		return s, err
	}
	s.time = d
	if res.Images != len(b.images) {
		return s, fmt.Errorf("copied %d images of %d", res.Images, len(b.images))
	}
	if err := verify(ctx, dst, b.images); err != nil {
		return s, err
	}
	again, d, err := copyAll()
	if err != nil {
		return s, err
	}
	if again.BytesCopied != 0 {
		return s, fmt.Errorf("the second copy moved %d bytes", again.BytesCopied)
	}
	s.again = d
	s.stored, err = stored(dst)
	return s, err
}

// skopeo copies the repository with skopeo sync to a fresh destination, then again.
func (b *bench) skopeo(ctx context.Context, round int) (runStats, error) {
	dst, err := b.registry(ctx, fmt.Sprintf("skopeo-%d", round))
	if err != nil {
		return runStats{}, err
	}
	defer dst.Stop()
	args := []string{"sync", "--src", "docker", "--dest", "docker", "--all", "--preserve-digests"}
	if b.c.tls {
		srcCerts, err := certDir(b.src, filepath.Join(b.dir, "certs-src"))
		if err != nil {
			return runStats{}, err
		}
		dstCerts, err := certDir(dst, filepath.Join(b.dir, fmt.Sprintf("certs-dst-%d", round)))
		if err != nil {
			return runStats{}, err
		}
		args = append(args, "--src-cert-dir", srcCerts, "--dest-cert-dir", dstCerts)
	} else {
		args = append(args, "--src-tls-verify=false", "--dest-tls-verify=false")
	}
	args = append(args, b.src.Host+"/ns/app", dst.Host+"/ns2")
	sync := func() (time.Duration, error) {
		cmd := exec.CommandContext(ctx, b.c.skopeo, args...) //nolint:gosec // the benchmark's own arguments.
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("skopeo %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return time.Since(start), nil
	}
	var s runStats
	if s.time, err = sync(); err != nil {
		return s, err
	}
	if err := verify(ctx, dst, b.images); err != nil {
		return s, err
	}
	if s.again, err = sync(); err != nil {
		return s, err
	}
	s.stored, err = stored(dst)
	return s, err
}

// certDir writes r's CA where skopeo's --*-cert-dir reads it.
func certDir(r *registrytest.Registry, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "ca.crt"), r.CA, 0o644)
}

// stored is the size of the blobs a registry holds.
func stored(r *registrytest.Registry) (int64, error) {
	var total int64
	err := filepath.WalkDir(filepath.Join(r.Storage, "docker", "registry", "v2", "blobs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "data" {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	return total, err
}

func median[T any](runs []T, f func(T) time.Duration) time.Duration {
	var ds []time.Duration
	for _, r := range runs {
		ds = append(ds, f(r))
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func size(n int64) string { return fmt.Sprintf("%.1f MiB", mib(n)) }
