package cli

import (
	"context"
	"fmt"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/scheme"
)

// watcher keeps an informer cache of a few kinds in the migration namespace and says when
// any of their objects changes. The CLI waits and draws its live view from it: watches, not
// polling, and a re-list by the informer whenever a watch expires, which a hand-written
// watch loop would have to get right itself.
type watcher struct {
	reader  client.Reader
	changes chan struct{}
}

// watch starts informers for kinds (typed objects such as &migv1.MigMigration{}) in the
// migration namespace, and returns once they have synced; they stop with ctx.
func (o *Options) watch(ctx context.Context, kinds ...client.Object) (*watcher, error) {
	cfg, err := o.RESTConfig()
	if err != nil {
		return nil, err
	}
	c, err := ctrlcache.New(cfg, ctrlcache.Options{
		Scheme:            scheme.New(),
		DefaultNamespaces: map[string]ctrlcache.Config{o.Namespace(): {}},
	})
	if err != nil {
		return nil, fmt.Errorf("watch the host cluster: %w", err)
	}
	w := &watcher{reader: c, changes: make(chan struct{}, 1)}
	poke := func() {
		select {
		case w.changes <- struct{}{}:
		default:
		}
	}
	handler := toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	}
	for _, kind := range kinds {
		inf, err := c.GetInformer(ctx, kind)
		if err != nil {
			return nil, fmt.Errorf("watch %T: %w", kind, err)
		}
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("watch %T: %w", kind, err)
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("watch the host cluster: %w", context.Cause(ctx))
	}
	poke()
	return w, nil
}

// until calls check after every change (and at least every tick, so that time-based views
// such as elapsed times move on) until it says done or fails, or ctx ends.
func (w *watcher) until(ctx context.Context, tick time.Duration, check func(ctx context.Context) (bool, error)) error {
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.changes:
		case <-ticker.C:
		}
	}
}
