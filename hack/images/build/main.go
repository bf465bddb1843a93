// Command build builds Ferry's images without a container engine (see package
// hack/images): `make images` runs it.
//
//	go run ./hack/images/build --out bin/images                     # every image, as OCI layouts
//	go run ./hack/images/build --images manager --push 127.0.0.1:5000/ferrymtc --insecure
//
// Each image goes to <out>/<name> as an OCI image layout; with --push also to
// <push>/<repository>:<version>. It prints each image's digest and size.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ferrymtc/ferry/hack/images"
)

func main() {
	out := flag.String("out", "bin/images", "Directory of the OCI image layouts, one per image.")
	only := flag.String("images", strings.Join(images.Names, ","), "Images to build, comma-separated.")
	push := flag.String("push", "", "Also push each image to PUSH/<repository>:<version> (a registry and a path, such as 127.0.0.1:5000/ferrymtc).")
	insecure := flag.Bool("insecure", false, "Push over plain HTTP.")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *out, strings.Split(*only, ","), *push, *insecure)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out string, names []string, push string, insecure bool) error {
	b, err := images.New(ctx, images.Options{Logf: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, ">> "+format+"\n", args...)
	}})
	if err != nil {
		return err
	}
	for _, n := range names {
		img, err := b.Build(ctx, n)
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		ref := images.DefaultReference(n)
		if err := images.WriteLayout(filepath.Join(out, n), ref, img); err != nil {
			return err
		}
		digest, err := img.Digest()
		if err != nil {
			return err
		}
		size, err := images.Size(img)
		if err != nil {
			return err
		}
		fmt.Printf("%-22s %s %6.1f MiB  %s\n", n, digest, float64(size)/(1<<20), filepath.Join(out, n))
		if push == "" {
			continue
		}
		var opts []name.Option
		if insecure {
			opts = append(opts, name.Insecure)
		}
		target, err := name.NewTag(push+"/"+images.Repository(n)+":"+b.Tag(), opts...)
		if err != nil {
			return err
		}
		pushed, err := images.Push(ctx, target, img, remote.WithAuthFromKeychain(authn.DefaultKeychain))
		if err != nil {
			return err
		}
		fmt.Printf("%-22s pushed %s\n", n, pushed)
	}
	return nil
}
