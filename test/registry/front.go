package registry

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const (
	// reviewTTL is how long a successful TokenReview or SubjectAccessReview is reused: a push
	// of one image is dozens of requests, a big one hundreds.
	reviewTTL = 5 * time.Second
	// reviewTimeout bounds one review call to the API server.
	reviewTimeout = 10 * time.Second
	// cacheLimit is the number of cached reviews past which expired ones are swept.
	cacheLimit = 1024
	// realm is the Basic challenge's realm.
	realm = "openshift"
	// apiVersionHeader is the distribution API's version header, which clients look for on
	// the base endpoint's answer (401 included) to know they talk to a registry.
	apiVersionHeader = "Docker-Distribution-API-Version"
)

// The image API's layers subresource, on which OpenShift's registry checks access.
const (
	imageGroup     = "image.openshift.io"
	imageResource  = "imagestreams"
	layersResource = "layers"
	verbPull       = "get"
	verbPush       = "update"
)

// front is the HTTPS server in front of the registry process: OpenShift's registry access
// controller (authentication by a Kubernetes token, authorization by SubjectAccessReview on
// imagestreams/layers) and a streaming reverse proxy.
type front struct {
	name   string
	cs     kubernetes.Interface
	noAuth bool
	logf   func(string, ...any)
	proxy  *httputil.ReverseProxy
	server *http.Server
	addr   string

	mu    sync.Mutex
	users map[string]cached // token hash → the user it authenticates
	grant map[string]time.Time
}

// cached is a TokenReview's user and until when it may be reused.
type cached struct {
	user    authenticationv1.UserInfo
	expires time.Time
}

// startFront listens on a free loopback port and serves HTTPS with the certificate of tlsMat,
// proxying allowed requests to the registry at backend (host:port, plain HTTP).
func startFront(name string, cs kubernetes.Interface, backend string, tlsMat *serving, noAuth bool, logf func(string, ...any)) (*front, error) {
	target := &url.URL{Scheme: "http", Host: backend}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	// The registry's answers pass through as they are (blobs are compressed already).
	transport.DisableCompression = true
	f := &front{name: name, cs: cs, noAuth: noAuth, logf: logf, users: map[string]cached{}, grant: map[string]time.Time{}}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
			r.Out.Host = r.In.Host
			// The registry itself has no authentication; the token stays here.
			r.Out.Header.Del("Authorization")
		},
		Transport: transport,
		ErrorLog:  log.New(logWriter{f}, "", 0),
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, http.StatusBadGateway, "UNAVAILABLE", "the registry did not answer: "+err.Error())
		},
	}
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("registry front: listen: %w", err)
	}
	f.addr = l.Addr().String()
	f.server = &http.Server{
		Handler:           f,
		ReadHeaderTimeout: 30 * time.Second,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{tlsMat.cert}},
		ErrorLog:          log.New(logWriter{f}, "", 0),
	}
	go func() { _ = f.server.ServeTLS(l, "", "") }()
	return f, nil
}

// close stops serving; requests in flight are cut.
func (f *front) close() { _ = f.server.Close() }

// logWriter sends the proxy's and the server's own error lines to the registry's Logf.
type logWriter struct{ f *front }

func (w logWriter) Write(p []byte) (int, error) {
	w.f.logf("registry %s front: %s", w.f.name, strings.TrimSpace(string(p)))
	return len(p), nil
}

// ServeHTTP authenticates, authorizes and proxies one request.
func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(apiVersionHeader, "registry/2.0")
	if r.URL.Path != "/v2" && !strings.HasPrefix(r.URL.Path, "/v2/") {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "not a registry API path")
		return
	}
	if f.noAuth {
		f.proxy.ServeHTTP(w, r)
		return
	}
	token := credentials(r)
	if token == "" {
		challenge(w, "authentication required")
		return
	}
	user, err := f.authenticate(r.Context(), token)
	switch {
	case errors.Is(err, errUnauthenticated):
		f.logf("registry %s: %s %s: the token was refused", f.name, r.Method, r.URL.Path)
		challenge(w, "the token was not accepted")
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", err.Error())
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/v2/")
	if rest == "" || r.URL.Path == "/v2" || rest == "_catalog" {
		// The base endpoint and the catalog need a valid token only.
		f.proxy.ServeHTTP(w, r)
		return
	}
	ns, name, ok := repository(rest)
	if !ok {
		writeError(w, http.StatusNotFound, "NAME_INVALID", "repository names are <namespace>/<name> in this registry")
		return
	}
	verb := verbPull
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		verb = verbPush
	}
	allowed, err := f.authorize(r.Context(), token, user, ns, name, verb)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", err.Error())
		return
	}
	if !allowed {
		f.logf("registry %s: %s %s/%s denied to %s (needs %s on %s.%s/%s in %s)", f.name, r.Method, ns, name, user.Username,
			verb, imageResource, imageGroup, layersResource, ns)
		writeError(w, http.StatusForbidden, "DENIED", fmt.Sprintf("access to the requested resource is not authorized: %s may not %s %s/%s in namespace %s",
			user.Username, verb, imageResource, layersResource, ns))
		return
	}
	if from := r.URL.Query().Get("from"); from != "" && r.Method == http.MethodPost {
		// A cross-repository blob mount reads the other repository: OpenShift's registry
		// checks pull access there too. Without it the mount is dropped, and the registry
		// answers with a plain upload, as it does for a mount it cannot make.
		if fromNS, fromName, ok := repository(from + "/blobs/"); !ok || !f.mayPull(r.Context(), token, user, fromNS, fromName) {
			q := r.URL.Query()
			q.Del("from")
			q.Del("mount")
			r.URL.RawQuery = q.Encode()
		}
	}
	f.proxy.ServeHTTP(w, r)
}

func (f *front) mayPull(ctx context.Context, token string, user authenticationv1.UserInfo, ns, name string) bool {
	ok, err := f.authorize(ctx, token, user, ns, name, verbPull)
	return err == nil && ok
}

// repository splits "<ns>/<name>/{manifests,blobs,tags,referrers}/<rest>" into ns and name.
func repository(rest string) (ns, name string, ok bool) {
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 4 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	switch parts[2] {
	case "manifests", "blobs", "tags", "referrers":
		return parts[0], parts[1], true
	}
	return "", "", false
}

// credentials is the token of a request: the password of HTTP Basic auth (any user name), as
// `docker login -u x -p $(oc whoami -t)` sends it, or a bearer token.
func credentials(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, value, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			return ""
		}
		_, password, _ := strings.Cut(string(raw), ":")
		return password
	case "bearer":
		return strings.TrimSpace(value)
	}
	return ""
}

// errUnauthenticated says that the API server did not accept a token.
var errUnauthenticated = errors.New("token not authenticated")

// authenticate returns the user of token, from a TokenReview or the cache.
func (f *front) authenticate(ctx context.Context, token string) (authenticationv1.UserInfo, error) {
	key := hashToken(token)
	f.mu.Lock()
	c, ok := f.users[key]
	f.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		return c.user, nil
	}
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	review, err := f.cs.AuthenticationV1().TokenReviews().Create(ctx,
		&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return authenticationv1.UserInfo{}, fmt.Errorf("review the token with the cluster's API server: %w", err)
	}
	if !review.Status.Authenticated {
		return authenticationv1.UserInfo{}, errUnauthenticated
	}
	f.mu.Lock()
	f.sweep()
	f.users[key] = cached{user: review.Status.User, expires: time.Now().Add(reviewTTL)}
	f.mu.Unlock()
	return review.Status.User, nil
}

// authorize asks the API server whether user may verb imagestreams/layers of ns/name, as
// OpenShift's registry does, reusing a recent grant.
func (f *front) authorize(ctx context.Context, token string, user authenticationv1.UserInfo, ns, name, verb string) (bool, error) {
	key := hashToken(token) + "\x00" + ns + "\x00" + name + "\x00" + verb
	f.mu.Lock()
	expires, ok := f.grant[key]
	f.mu.Unlock()
	if ok && time.Now().Before(expires) {
		return true, nil
	}
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	review, err := f.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: ns, Verb: verb, Group: imageGroup, Resource: imageResource, Subresource: layersResource, Name: name,
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("review the access with the cluster's API server: %w", err)
	}
	if !review.Status.Allowed {
		return false, nil
	}
	f.mu.Lock()
	f.sweep()
	f.grant[key] = time.Now().Add(reviewTTL)
	f.mu.Unlock()
	return true, nil
}

// sweep drops expired cache entries once the caches grow (f.mu held).
func (f *front) sweep() {
	if len(f.users)+len(f.grant) < cacheLimit {
		return
	}
	now := time.Now()
	for k, c := range f.users {
		if now.After(c.expires) {
			delete(f.users, k)
		}
	}
	for k, t := range f.grant {
		if now.After(t) {
			delete(f.grant, k)
		}
	}
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return string(sum[:])
}

// challenge answers 401 with a Basic challenge, which makes clients send credentials.
func challenge(w http.ResponseWriter, message string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", realm))
	writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", message)
}

// writeError answers with the registry API's error body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	body := map[string]any{"errors": []map[string]any{{"code": code, "message": message, "detail": nil}}}
	_ = json.NewEncoder(w).Encode(body)
}
