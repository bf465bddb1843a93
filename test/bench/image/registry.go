package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ferrymtc/ferry/pkg/imagecopy"
	"github.com/ferrymtc/ferry/pkg/imagecopy/registrytest"
)

// options are go-containerregistry's options to reach r (its CA when TLS).
func options(ctx context.Context, r *registrytest.Registry) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithJobs(4)}
	if r.CA != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(r.CA)
		opts = append(opts, remote.WithTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}))
	}
	return opts
}

// push writes the stream's images to ns/app of the source, one tag each, and returns them as
// the images a copy asks for (by digest, with their tag).
func push(ctx context.Context, src *registrytest.Registry, st *stream) ([]imagecopy.Image, error) {
	todo := map[name.Reference]remote.Taggable{}
	var images []imagecopy.Image
	for i, img := range st.images {
		ref, err := name.NewTag(src.Host + "/ns/app:" + st.tags[i])
		if err != nil {
			return nil, err
		}
		todo[ref] = img
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		images = append(images, imagecopy.Image{Repository: "ns/app", Digest: d.String(), Tags: []string{st.tags[i]}})
	}
	if err := remote.MultiWrite(todo, options(ctx, src)...); err != nil {
		return nil, fmt.Errorf("push the images to the source: %w", err)
	}
	return images, nil
}

// verify checks that every tag of ns2/app at dst is its image, by digest.
func verify(ctx context.Context, dst *registrytest.Registry, images []imagecopy.Image) error {
	for _, img := range images {
		ref, err := name.NewTag(dst.Host + "/ns2/app:" + img.Tags[0])
		if err != nil {
			return err
		}
		desc, err := remote.Head(ref, options(ctx, dst)...)
		if err != nil {
			return fmt.Errorf("destination tag %s: %w", img.Tags[0], err)
		}
		if desc.Digest.String() != img.Digest {
			return fmt.Errorf("destination tag %s is %s, want %s", img.Tags[0], desc.Digest, img.Digest)
		}
	}
	return nil
}
