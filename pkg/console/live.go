package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// liveView is a page whose live region is pushed: what it loads and which kinds it watches.
type liveView struct {
	load  func(s *Server, ctx context.Context, c client.Client, name string) (any, error)
	watch []func() client.ObjectList
}

var liveViews = map[string]liveView{
	"clusters": {load: (*Server).loadClusters, watch: lists(func() client.ObjectList { return &migv1.MigClusterList{} })},
	"storages": {load: (*Server).loadStorages, watch: lists(func() client.ObjectList { return &migv1.MigStorageList{} })},
	"plans":    {load: (*Server).loadPlans, watch: lists(func() client.ObjectList { return &migv1.MigPlanList{} })},
	"plan": {load: (*Server).loadPlan, watch: lists(
		func() client.ObjectList { return &migv1.MigPlanList{} },
		func() client.ObjectList { return &migv1.MigMigrationList{} },
		func() client.ObjectList { return &migv1.MigHookList{} })},
	"migrations": {load: (*Server).loadMigrations, watch: lists(func() client.ObjectList { return &migv1.MigMigrationList{} })},
	"migration": {load: (*Server).loadMigration, watch: lists(
		func() client.ObjectList { return &migv1.MigMigrationList{} },
		func() client.ObjectList { return &migv1.DirectVolumeMigrationList{} },
		func() client.ObjectList { return &migv1.DirectVolumeMigrationProgressList{} },
		func() client.ObjectList { return &migv1.DirectImageMigrationList{} })},
	"settings": {load: (*Server).loadSettings, watch: lists(func() client.ObjectList { return &migv1.MigrationControllerList{} })},
}

func lists(fs ...func() client.ObjectList) []func() client.ObjectList { return fs }

const (
	// heartbeat keeps proxies from closing an idle stream.
	heartbeat = 15 * time.Second
)

// events streams a page's live region as server-sent events: the region's HTML, re-rendered
// by the page's own template each time a watch (made with the user's token) reports a change.
func (s *Server) events(w http.ResponseWriter, r *http.Request, req *request) {
	page, name := r.URL.Query().Get("view"), r.URL.Query().Get("name")
	lv, ok := liveViews[page]
	if !ok {
		http.Error(w, "unknown view", http.StatusNotFound)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	changed := make(chan struct{}, 1)
	for _, newList := range lv.watch {
		wi, err := req.client.Watch(ctx, newList(), client.InNamespace(s.namespace))
		if err != nil {
			s.fail(w, r, fmt.Errorf("watch: %w", err))
			return
		}
		go forward(ctx, cancel, wi, changed)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// EventSource reconnects after this long when a watch ends (the server's watch timeout).
	_, _ = fmt.Fprint(w, "retry: 1000\n\n")
	flusher.Flush()

	last := ""
	push := func() bool {
		lctx, lcancel := context.WithTimeout(ctx, 30*time.Second)
		defer lcancel()
		data, err := lv.load(s, lctx, req.client, name)
		if err != nil {
			s.log.V(1).Info("live load failed", "view", page, "error", err.Error())
			return ctx.Err() == nil
		}
		v := view{User: req.sess.User, CSRF: req.sess.CSRF, D: data}
		html, err := s.renderLive(page, v)
		if err != nil {
			s.log.Error(err, "live render")
			return false
		}
		if html == last {
			return true
		}
		last = html
		msg, _ := json.Marshal(map[string]string{"html": html})
		if _, err := fmt.Fprintf(w, "data: %s\n\n", msg); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	// Once the watches run: what changed between the page's load and now is shown too.
	if !push() {
		return
	}
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			if settle == nil {
				settle = time.After(s.coalesce)
			}
		case <-settle:
			settle = nil
			if !push() {
				return
			}
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

// forward signals changed on each event of the watch; when the watch ends (expired token,
// server timeout) the stream ends too, and the browser reconnects.
func forward(ctx context.Context, cancel context.CancelFunc, wi watch.Interface, changed chan<- struct{}) {
	defer wi.Stop()
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-wi.ResultChan():
			if !ok || ev.Type == watch.Error {
				return
			}
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}
}
