package migenv

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferrymtc/ferry/test/registry"
)

// startRegistries starts each cluster's internal image registry (test/registry): the
// ImageStream API, the registry behind its HTTPS front, which checks tokens and
// imagestreams/layers access on its own cluster as OpenShift's does, and the image controller
// that keeps ImageStreams in step with pushes. Both start at once.
func (e *Env) startRegistries(ctx context.Context) error {
	type result struct {
		r   *registry.Registry
		err error
	}
	source, destination := make(chan result, 1), make(chan result, 1)
	go func() {
		r, err := registry.Start(ctx, e.Source, registry.Options{Name: e.Source.Name})
		source <- result{r, err}
	}()
	go func() {
		r, err := registry.Start(ctx, e.Destination, registry.Options{Name: e.Destination.Name})
		destination <- result{r, err}
	}()
	s, d := <-source, <-destination
	e.SourceRegistry, e.DestinationRegistry = s.r, d.r
	if err := errors.Join(s.err, d.err); err != nil {
		return fmt.Errorf("start the internal registries: %w", err)
	}
	return nil
}

// stopRegistries stops both registries (those that started).
func (e *Env) stopRegistries() error {
	var errs []error
	for _, r := range []*registry.Registry{e.SourceRegistry, e.DestinationRegistry} {
		if r != nil {
			errs = append(errs, r.Stop())
		}
	}
	e.SourceRegistry, e.DestinationRegistry = nil, nil
	return errors.Join(errs...)
}
