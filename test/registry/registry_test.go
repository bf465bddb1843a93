package registry

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ferrymtc/ferry/test/controlplane"
)

func TestRepository(t *testing.T) {
	for path, want := range map[string]string{
		"ns/app/manifests/latest":      "ns/app",
		"ns/app/blobs/uploads/":        "ns/app",
		"ns/app/blobs/sha256:abc":      "ns/app",
		"ns/app/tags/list":             "ns/app",
		"ns/app/referrers/sha256:abc":  "ns/app",
		"app/manifests/latest":         "",
		"a/b/c/manifests/latest":       "",
		"ns//manifests/latest":         "",
		"ns/app":                       "",
		"ns/app/unknown/x":             "",
		"ns/app/manifests":             "",
		"ns/app/manifests/v1/manifest": "ns/app",
	} {
		ns, n, ok := repository(path)
		got := ""
		if ok {
			got = ns + "/" + n
		}
		if got != want {
			t.Errorf("repository(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestCredentials(t *testing.T) {
	basic := func(user, password string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "https://x/v2/", nil)
		r.SetBasicAuth(user, password)
		return r
	}
	bearer, _ := http.NewRequest(http.MethodGet, "https://x/v2/", nil)
	bearer.Header.Set("Authorization", "Bearer tok-3")
	none, _ := http.NewRequest(http.MethodGet, "https://x/v2/", nil)
	for _, tc := range []struct {
		r    *http.Request
		want string
	}{{basic("anyone", "tok-1"), "tok-1"}, {basic("", "tok:2"), "tok:2"}, {bearer, "tok-3"}, {none, ""}} {
		if got := credentials(tc.r); got != tc.want {
			t.Errorf("credentials(%q) = %q, want %q", tc.r.Header.Get("Authorization"), got, tc.want)
		}
	}
}

// TestRegistry runs one cluster's registry and checks the front's authentication and
// authorization (OpenShift's rules), the image controller, and image resolution for nodes.
func TestRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cp := controlplane.StartForTest(t, "registry")
	r := StartForTest(ctx, t, cp, Options{})
	if r.InternalHost != InternalHost || !strings.HasPrefix(r.Address, "127.0.0.1:") || len(r.CAPEM) == 0 {
		t.Fatalf("registry: InternalHost %q, Address %q, CA %d bytes", r.InternalHost, r.Address, len(r.CAPEM))
	}
	for _, ns := range []string{"team-a", "team-b"} {
		if err := cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("auth", func(t *testing.T) { testAuth(ctx, t, cp, r) })
	t.Run("imagestreams", func(t *testing.T) { testImageStreams(ctx, t, cp, r) })
	t.Run("resolve", func(t *testing.T) { testResolve(ctx, t, r) })
}

func testAuth(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, r *Registry) {
	hc := &http.Client{Transport: r.Transport()}
	// get answers the status, headers and registry error codes of a GET.
	type answer struct {
		StatusCode int
		Status     string
		Header     http.Header
		Codes      []string
	}
	get := func(path, authorization string) answer {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+r.Address+path, nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer func() { _ = resp.Body.Close() }()
		var body struct {
			Errors []struct{ Code string } `json:"errors"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		a := answer{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header}
		for _, e := range body.Errors {
			a.Codes = append(a.Codes, e.Code)
		}
		return a
	}
	basic := func(token string) string {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth("someone", token)
		return req.Header.Get("Authorization")
	}

	// What a client without credentials sees (and Ferry's MigCluster registry probe accepts).
	resp := get("/v2/", "")
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Basic realm=`) ||
		resp.Header.Get(apiVersionHeader) != "registry/2.0" {
		t.Fatalf("anonymous GET /v2/: %s, WWW-Authenticate %q, %s %q", resp.Status, resp.Header.Get("WWW-Authenticate"),
			apiVersionHeader, resp.Header.Get(apiVersionHeader))
	}
	if resp := get("/v2/", basic("not-a-token")); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ with an invalid token: %s, want 401", resp.Status)
	}
	if resp := get("/v2/_catalog", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous GET /v2/_catalog: %s, want 401", resp.Status)
	}

	// A valid token of a user with no rights on images: the base endpoint and the catalog
	// answer; pulls and pushes are denied.
	token, err := cp.MintToken(ctx, "team-a", "reader", "")
	if err != nil {
		t.Fatal(err)
	}
	if resp := get("/v2/", basic(token)); resp.StatusCode != http.StatusOK || resp.Header.Get(apiVersionHeader) == "" {
		t.Fatalf("GET /v2/ with a valid token: %s", resp.Status)
	}
	if resp := get("/v2/_catalog", "Bearer "+token); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/_catalog with a bearer token: %s", resp.Status)
	}
	digest, err := r.PushRandomImage(ctx, "team-a/app", "v1", ImageSpec{LayerSizes: []int64{1 << 10, 64 << 10}, Entrypoint: []string{"sleep"}, Cmd: []string{"3600"}})
	if err != nil {
		t.Fatalf("push as admin: %v", err)
	}
	resp = get("/v2/team-a/app/manifests/v1", basic(token))
	if resp.StatusCode != http.StatusForbidden || !slices.Equal(resp.Codes, []string{"DENIED"}) {
		t.Fatalf("pull without imagestreams/layers get: %s %v, want 403 DENIED", resp.Status, resp.Codes)
	}

	// go-containerregistry, as Ferry copies images, with the token as password.
	userOpts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(r.Transport()),
		remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: "unused", Password: token}))}
	ref, _ := name.NewTag(r.Repository("team-a/app") + ":v1")
	_, err = remote.Head(ref, userOpts...)
	if code := statusOf(err); code != http.StatusForbidden {
		t.Fatalf("HEAD without rights: %v, want 403", err)
	}

	// Pull granted in team-a: HEAD and GET work there, not in team-b; a push is still denied.
	grant(ctx, t, cp, "team-a", "reader", "get")
	desc, err := remote.Head(ref, userOpts...)
	if err != nil || desc.Digest.String() != digest {
		t.Fatalf("HEAD with get on imagestreams/layers: %v, %v; want %s", desc, err, digest)
	}
	if _, err := remote.Image(ref, userOpts...); err != nil {
		t.Fatalf("pull with get on imagestreams/layers: %v", err)
	}
	img, err := RandomImage(ImageSpec{LayerSizes: []int64{4 << 10}}, "")
	if err != nil {
		t.Fatal(err)
	}
	pushRef, _ := name.NewTag(r.Repository("team-a/app") + ":v2")
	if err := remote.Write(pushRef, img, userOpts...); statusOf(err) != http.StatusForbidden {
		t.Fatalf("push with get only: %v, want 403", err)
	}
	otherRef, _ := name.NewTag(r.Repository("team-b/app") + ":v1")
	if _, err := r.PushRandomImage(ctx, "team-b/app", "v1", ImageSpec{LayerSizes: []int64{1 << 10}}); err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(otherRef, userOpts...); statusOf(err) != http.StatusForbidden {
		t.Fatalf("HEAD in another namespace: %v, want 403", err)
	}

	// Push granted: the push goes through.
	grant(ctx, t, cp, "team-a", "reader", "update")
	if err := remote.Write(pushRef, img, userOpts...); err != nil {
		t.Fatalf("push with update on imagestreams/layers: %v", err)
	}
}

// statusOf is the HTTP status of a go-containerregistry error, 0 for none.
func statusOf(err error) int {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode
	}
	return 0
}

// grant lets ServiceAccount ns/sa verb imagestreams/layers in ns.
func grant(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, ns, sa, verb string) {
	t.Helper()
	name := "layers-" + verb
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{imageGroup}, Resources: []string{"imagestreams/layers"}, Verbs: []string{verb}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa}}}
	if err := cp.Client.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	if err := cp.Client.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
}

func testImageStreams(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, r *Registry) {
	// A push to a repository without an ImageStream creates it, with its status.
	first, err := r.PushRandomImage(ctx, "team-b/web", "latest", ImageSpec{LayerSizes: []int64{8 << 10}, Entrypoint: []string{"sleep", "3600"}})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	st := waitStatus(ctx, t, cp, "team-b", "web", func(st isStatus) bool { return st.top("latest") == first })
	t.Logf("ImageStream created and its status written %s after the push", time.Since(began).Round(time.Millisecond))
	if st.DockerImageRepository != InternalHost+"/team-b/web" || st.PublicDockerImageRepository != r.Address+"/team-b/web" {
		t.Fatalf("repositories: %q, %q", st.DockerImageRepository, st.PublicDockerImageRepository)
	}
	item := st.tag("latest").Items[0]
	if item.DockerImageReference != InternalHost+"/team-b/web@"+first || item.Created == "" {
		t.Fatalf("tag event: %+v", item)
	}

	// A new image under the same tag goes on top; the history keeps the first.
	second, err := r.PushRandomImage(ctx, "team-b/web", "latest", ImageSpec{LayerSizes: []int64{8 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	st = waitStatus(ctx, t, cp, "team-b", "web", func(st isStatus) bool { return st.top("latest") == second })
	items := st.tag("latest").Items
	if len(items) != 2 || items[1].Image != first || items[0].Generation <= items[1].Generation {
		t.Fatalf("history of latest: %+v; want %s on top of %s, generation increasing", items, second, first)
	}

	// An image index: the tag names the index's digest.
	index, err := r.PushRandomImage(ctx, "team-b/web", "multi", ImageSpec{LayerSizes: []int64{4 << 10},
		Entrypoint: []string{"sleep", "3600"}, Platforms: []string{"linux/amd64", "linux/arm64"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Digest(ctx, "team-b/web", "multi"); err != nil || got != index {
		t.Fatalf("Digest(multi) = %s, %v; want %s", got, err, index)
	}
	if got, err := r.Digest(ctx, "team-b/web", first); err != nil || got != first {
		t.Fatalf("Digest(%s) = %s, %v; the registry keeps an image by digest", first, got, err)
	}
	waitStatus(ctx, t, cp, "team-b", "web", func(st isStatus) bool { return st.top("multi") == index && st.top("latest") == second })

	// An ImageStream created before any push gets its repositories at the next resync.
	is := &unstructured.Unstructured{}
	is.SetGroupVersionKind(imageStreamGVK)
	is.SetNamespace("team-b")
	is.SetName("empty")
	if err := cp.Client.Create(ctx, is); err != nil {
		t.Fatal(err)
	}
	waitStatus(ctx, t, cp, "team-b", "empty", func(st isStatus) bool { return st.DockerImageRepository == InternalHost+"/team-b/empty" })

	// The user's push of the auth test (v2 by a token with update on imagestreams/layers)
	// created team-a/app too.
	waitStatus(ctx, t, cp, "team-a", "app", func(st isStatus) bool { return st.top("v1") != "" && st.top("v2") != "" })

	// A push to a namespace that does not exist creates nothing.
	if _, err := r.PushRandomImage(ctx, "nowhere/web", "latest", ImageSpec{LayerSizes: []int64{1 << 10}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := r.Err(); err != nil {
		t.Fatalf("image controller: %v", err)
	}
}

// isStatus is the part of an ImageStream's status the test reads.
type isStatus struct {
	DockerImageRepository       string       `json:"dockerImageRepository"`
	PublicDockerImageRepository string       `json:"publicDockerImageRepository"`
	Tags                        []tagHistory `json:"tags"`
}

type tagHistory struct {
	Tag   string     `json:"tag"`
	Items []tagEvent `json:"items"`
}

type tagEvent struct {
	Created              string `json:"created"`
	DockerImageReference string `json:"dockerImageReference"`
	Image                string `json:"image"`
	Generation           int64  `json:"generation"`
}

func (st isStatus) tag(name string) tagHistory {
	if i := slices.IndexFunc(st.Tags, func(t tagHistory) bool { return t.Tag == name }); i >= 0 {
		return st.Tags[i]
	}
	return tagHistory{}
}

func (st isStatus) top(tag string) string {
	if items := st.tag(tag).Items; len(items) > 0 {
		return items[0].Image
	}
	return ""
}

// waitStatus polls ImageStream ns/name until ok accepts its status.
func waitStatus(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, ns, name string, ok func(isStatus) bool) isStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var st isStatus
	var lastErr error
	for time.Now().Before(deadline) {
		is := &unstructured.Unstructured{}
		is.SetGroupVersionKind(imageStreamGVK)
		lastErr = cp.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, is)
		if lastErr == nil {
			raw, _ := json.Marshal(is.Object["status"])
			st = isStatus{}
			_ = json.Unmarshal(raw, &st)
			if ok(st) {
				return st
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ImageStream %s/%s: status %+v (last error %v)", ns, name, st, lastErr)
	return st
}

func testResolve(ctx context.Context, t *testing.T, r *Registry) {
	digest, err := r.PushRandomImage(ctx, "team-a/tool", "v1", ImageSpec{LayerSizes: []int64{2 << 10},
		Entrypoint: []string{"sleep"}, Cmd: []string{"3600"}, User: "1001:0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{InternalHost, r.Address} {
		img, known, err := r.Resolve(ctx, host+"/team-a/tool:v1")
		if !known || err != nil {
			t.Fatalf("Resolve(%s/team-a/tool:v1): known %v, %v", host, known, err)
		}
		if img.ID != host+"/team-a/tool@"+digest || !slices.Equal(img.Entrypoint, []string{"sleep"}) ||
			!slices.Equal(img.Cmd, []string{"3600"}) || img.User == nil || *img.User != 1001 {
			t.Fatalf("Resolve(%s/team-a/tool:v1) = %+v", host, img)
		}
	}
	if img, known, err := r.Resolve(ctx, InternalHost+"/team-a/tool@"+digest); !known || err != nil || img.ID != InternalHost+"/team-a/tool@"+digest {
		t.Fatalf("Resolve by digest: %+v, %v, %v", img, known, err)
	}
	// An index resolves to its digest, with the config of this machine's platform.
	index, err := r.PushRandomImage(ctx, "team-a/tool", "multi", ImageSpec{LayerSizes: []int64{1 << 10},
		Entrypoint: []string{"true"}, Platforms: []string{"linux/" + runtime.GOARCH, "linux/s390x"}})
	if err != nil {
		t.Fatal(err)
	}
	if img, _, err := r.Resolve(ctx, InternalHost+"/team-a/tool:multi"); err != nil || img.ID != InternalHost+"/team-a/tool@"+index ||
		!slices.Equal(img.Entrypoint, []string{"true"}) {
		t.Fatalf("Resolve(index) = %+v, %v; want %s", img, err, index)
	}
	if _, known, err := r.Resolve(ctx, InternalHost+"/team-a/tool:missing"); !known || err == nil {
		t.Fatalf("Resolve(missing tag): known %v, err %v; want a pull error", known, err)
	}
	if _, known, _ := r.Resolve(ctx, "quay.io/team-a/tool:v1"); known {
		t.Fatal("Resolve of another registry's image: known")
	}
}
