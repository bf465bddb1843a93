package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryscheme "github.com/ferrymtc/ferry/pkg/scheme"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures the console.
type Options struct {
	// Config reaches the host cluster's API server: its host and CA are used, its
	// credentials never (each request carries the user's token instead).
	Config *rest.Config
	// Namespace holds the migration objects (MTC's openshift-migration).
	Namespace string
	// Log receives request errors; discarded when zero.
	Log logr.Logger
}

// Server is the console's http.Handler.
type Server struct {
	base      *rest.Config
	namespace string
	scheme    *runtime.Scheme
	mapper    meta.RESTMapper
	sealer    *sealer
	pages     map[string]*template.Template
	mux       *http.ServeMux
	log       logr.Logger
	now       func() time.Time
	// coalesce is how long live updates wait for more changes before re-rendering.
	coalesce time.Duration
}

// New builds the console.
func New(opts Options) (*Server, error) {
	if opts.Config == nil || opts.Namespace == "" {
		return nil, errors.New("console: a REST config and a namespace are required")
	}
	sl, err := newSealer()
	if err != nil {
		return nil, err
	}
	s := &Server{base: opts.Config, namespace: opts.Namespace, scheme: ferryscheme.New(), sealer: sl,
		log: opts.Log, now: time.Now, coalesce: 200 * time.Millisecond}
	if s.log.GetSink() == nil {
		s.log = logr.Discard()
	}
	s.mapper = staticMapper(s.scheme)
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// ServeHTTP serves the console's pages, forms, static files and event streams.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// No page of the console may be framed (clickjacking) or sniffed; scripts and styles
	// come only from the console itself.
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.authed(s.logout))
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/clusters", http.StatusSeeOther) })
	m.HandleFunc("GET /clusters", s.authed(s.clustersPage))
	m.HandleFunc("POST /clusters", s.authed(s.addCluster))
	m.HandleFunc("GET /storages", s.authed(s.storagesPage))
	m.HandleFunc("POST /storages", s.authed(s.addStorage))
	m.HandleFunc("GET /plans", s.authed(s.plansPage))
	m.HandleFunc("POST /plans", s.authed(s.createPlan))
	m.HandleFunc("GET /plans/{name}", s.authed(s.planPage))
	m.HandleFunc("POST /plans/{name}/volumes", s.authed(s.saveVolumes))
	m.HandleFunc("POST /plans/{name}/hooks", s.authed(s.addHook))
	m.HandleFunc("POST /plans/{name}/migrate", s.authed(s.migrate))
	m.HandleFunc("GET /migrations", s.authed(s.migrationsPage))
	m.HandleFunc("GET /migrations/{name}", s.authed(s.migrationPage))
	m.HandleFunc("POST /migrations/{name}/cancel", s.authed(s.cancel))
	m.HandleFunc("GET /settings", s.authed(s.settingsPage))
	m.HandleFunc("POST /settings", s.authed(s.saveSettings))
	m.HandleFunc("GET /events", s.authed(s.events))
	s.mux = m
}

// request is what an authenticated handler gets: the session and a client acting as its user.
type request struct {
	sess   session
	client client.WithWatch
}

// authed wraps a handler that needs a logged-in user; POSTs are checked for CSRF.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cookie, err := r.Cookie(sessionCookie)
		var sess session
		if err == nil {
			sess, err = s.sealer.open(cookie.Value, s.now())
		}
		if err != nil {
			if r.Method == http.MethodGet && r.URL.Path != "/events" {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost && (crossSite(r) || !validCSRF(sess, r)) {
			http.Error(w, "refused: the form did not come from this console (CSRF check)", http.StatusForbidden)
			return
		}
		c, err := s.userClient(sess.Token)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r, &request{sess: sess, client: c})
	}
}

// view is what every page template gets.
type view struct {
	Title, Nav string
	User, CSRF string
	// Live is the URL of the page's server-sent events, "" for a page without live parts.
	Live string
	// Error is shown on top of the page (a refused form, an API error).
	Error string
	// Form holds what the user typed, to fill the form again after an error.
	Form map[string]string
	// D is the page's live data (what the "live" template shows); E the rest.
	D, E any
}

func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		page := n[len("templates/") : len(n)-len(".html")]
		if page == "layout" {
			continue
		}
		t, err := template.New(page).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", page, err)
		}
		pages[page] = t
	}
	return pages, nil
}

// render writes a whole page.
func (s *Server) render(w http.ResponseWriter, status int, page string, v view) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error(err, "render", "page", page)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderLive renders the page's live region alone, for server-sent events.
func (s *Server) renderLive(page string, v view) (string, error) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "live", v); err != nil {
		return "", fmt.Errorf("render %s: %w", page, err)
	}
	return buf.String(), nil
}

// viewFor is the view of a page for the session.
func (s *Server) viewFor(req *request, title, nav string) view {
	return view{Title: title, Nav: nav, User: req.sess.User, CSRF: req.sess.CSRF}
}

// fail answers an API error: an expired or revoked token sends the user to the login page,
// a refusal by RBAC says so, anything else is a bad gateway with the API server's words.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadGateway
	switch {
	case apierrors.IsUnauthorized(err):
		clearSessionCookie(w)
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/login?expired=1", http.StatusSeeOther)
			return
		}
		status = http.StatusUnauthorized
	case apierrors.IsForbidden(err):
		status = http.StatusForbidden
	case apierrors.IsNotFound(err):
		status = http.StatusNotFound
	}
	s.log.V(1).Info("request failed", "path", r.URL.Path, "error", err.Error())
	http.Error(w, err.Error(), status)
}

// see redirects after a successful POST (the browser then GETs, so a reload does not post
// again).
func see(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// timeout bounds one page's API calls.
func timeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 30*time.Second)
}
