package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layer is a gzip-compressed tar layer held in memory: one file of pseudo-random bytes
// (incompressible, as image content mostly is once compressed). Generated once, so that
// pushing it costs no compression.
type layer struct {
	gz             []byte
	digest, diffID v1.Hash
}

var _ v1.Layer = (*layer)(nil)

// newLayer makes a layer of about size bytes from seed.
func newLayer(seed uint64, size int) (*layer, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(size)))
	data := make([]byte, size)
	for i := 0; i+8 <= len(data); i += 8 {
		v := rng.Uint64()
		for k := range 8 {
			data[i+k] = byte(v >> (8 * k))
		}
	}
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("data-%d", seed), Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	var gzBuf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gzBuf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &layer{gz: gzBuf.Bytes(), digest: sha(gzBuf.Bytes()), diffID: sha(tarBuf.Bytes())}, nil
}

func sha(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

func (l *layer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *layer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *layer) Size() (int64, error)                { return int64(len(l.gz)), nil }
func (l *layer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
func (l *layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.gz)), nil
}

func (l *layer) Uncompressed() (io.ReadCloser, error) {
	return gzip.NewReader(bytes.NewReader(l.gz))
}

// stream is the "ImageStream" of the benchmark: tags of images that share base layers.
type stream struct {
	tags   []string
	images []v1.Image
	// bytes is the size of the distinct blobs of all images.
	bytes int64
}

// newStream builds tags images, each of the base layers then unique layers of its own.
func newStream(tags, baseLayers, baseSize, uniqueLayers, uniqueSize int) (*stream, error) {
	var base []v1.Layer
	seed := uint64(1)
	for range baseLayers {
		l, err := newLayer(seed, baseSize)
		if err != nil {
			return nil, err
		}
		seed++
		base = append(base, l)
	}
	s := &stream{}
	seen := map[v1.Hash]bool{}
	for t := range tags {
		ls := append([]v1.Layer{}, base...)
		for range uniqueLayers {
			l, err := newLayer(seed, uniqueSize)
			if err != nil {
				return nil, err
			}
			seed++
			ls = append(ls, l)
		}
		img, err := mutate.AppendLayers(empty.Image, ls...)
		if err != nil {
			return nil, err
		}
		m, err := img.Manifest()
		if err != nil {
			return nil, err
		}
		for _, d := range append(m.Layers, m.Config) {
			if !seen[d.Digest] {
				seen[d.Digest] = true
				s.bytes += d.Size
			}
		}
		s.tags = append(s.tags, fmt.Sprintf("v%d", t+1))
		s.images = append(s.images, img)
	}
	return s, nil
}
