package registry

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

//go:embed imagestreams.crd.yaml
var imageStreamCRD []byte

//go:embed buildconfigs.crd.yaml
var buildConfigCRD []byte

// CRDName is the ImageStream CRD's name.
const CRDName = "imagestreams.image.openshift.io"

// ImageStream kinds, read and written as unstructured objects (the repository does not depend
// on OpenShift's Go types).
var (
	imageStreamGVK     = schema.GroupVersionKind{Group: imageGroup, Version: "v1", Kind: "ImageStream"}
	imageStreamListGVK = schema.GroupVersionKind{Group: imageGroup, Version: "v1", Kind: "ImageStreamList"}
)

// manifestAccept is every manifest type a tag may point at; a HEAD with it answers the digest
// of what the tag names, whatever its type.
var manifestAccept = strings.Join([]string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

// InstallImageStreamAPI creates the ImageStream and BuildConfig CRDs on the cluster of c
// (unless they exist) and waits until the ImageStream API is served.
func InstallImageStreamAPI(ctx context.Context, c client.Client) error {
	for kind, manifest := range map[string][]byte{"ImageStream": imageStreamCRD, "BuildConfig": buildConfigCRD} {
		crd := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(manifest, &crd.Object); err != nil {
			return fmt.Errorf("%s CRD: %w", kind, err)
		}
		if err := c.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("install the %s API: %w", kind, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(imageStreamListGVK)
		err := c.List(ctx, list, client.Limit(1))
		if err == nil {
			probe := &unstructured.Unstructured{}
			probe.SetGroupVersionKind(imageStreamGVK)
			probe.SetNamespace("default")
			probe.SetName("ferry-probe")
			// The first write of a new CRD's kind takes the API server about 2 s; a dry
			// run here takes that wait, so that the first push is as prompt as the next.
			_ = c.Create(ctx, probe, client.DryRunAll)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the ImageStream API is not served 30 s after its CRD was created: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// imageController plays OpenShift's image controller and its registry's side of it for one
// cluster: it keeps each ImageStream's status in step with what the registry holds for the
// repository <namespace>/<name>, and creates the ImageStream of a repository pushed to without
// one. Push events from the registry (notifications) trigger a sync of their repository at
// once; every stream is resynced every interval as a backstop.
type imageController struct {
	name     string
	c        client.Client
	backend  string // the registry process, host:port, plain HTTP
	public   string // the front's address, for publicDockerImageRepository
	interval time.Duration
	logf     func(string, ...any)
	hc       *http.Client

	events   *http.Server
	eventURL string

	mu      sync.Mutex
	pending map[string]bool // repository → created by a push (create the stream if missing)
	kick    chan struct{}
	lastErr map[string]string

	cancel context.CancelFunc
	done   chan struct{}
}

// newImageController listens for the registry's notifications on a free loopback port; run
// starts the sync loop once the registry runs.
func newImageController(name string, c client.Client, interval time.Duration, logf func(string, ...any)) (*imageController, error) {
	ic := &imageController{
		name: name, c: c, interval: interval, logf: logf,
		hc:      &http.Client{Timeout: 10 * time.Second},
		pending: map[string]bool{}, kick: make(chan struct{}, 1), lastErr: map[string]string{},
		done: make(chan struct{}),
	}
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("image controller: listen for registry events: %w", err)
	}
	ic.eventURL = "http://" + l.Addr().String() + "/events"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /events", ic.receive)
	ic.events = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ic.events.Serve(l) }()
	return ic, nil
}

// envelope is the registry's notification body (distribution's notifications.Envelope, the
// fields used here).
type envelope struct {
	Events []struct {
		Action string `json:"action"`
		Target struct {
			MediaType  string `json:"mediaType"`
			Repository string `json:"repository"`
			Tag        string `json:"tag"`
			Digest     string `json:"digest"`
		} `json:"target"`
	} `json:"events"`
}

// receive takes the registry's events: a manifest pushed or deleted queues its repository.
func (ic *imageController) receive(w http.ResponseWriter, r *http.Request) {
	var env envelope
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&env); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	queued := false
	ic.mu.Lock()
	for _, e := range env.Events {
		if e.Target.Repository == "" || (e.Action != "push" && e.Action != "delete") {
			continue
		}
		ic.pending[e.Target.Repository] = ic.pending[e.Target.Repository] || e.Action == "push"
		queued = true
	}
	ic.mu.Unlock()
	if queued {
		ic.wake()
	}
	w.WriteHeader(http.StatusOK)
}

func (ic *imageController) wake() {
	select {
	case ic.kick <- struct{}{}:
	default:
	}
}

// run syncs queued repositories as they come and every stream each interval, until stop.
func (ic *imageController) run(backend, public string) {
	ic.backend, ic.public = backend, public
	ctx, cancel := context.WithCancel(context.Background())
	ic.cancel = cancel
	go func() {
		defer close(ic.done)
		ticker := time.NewTicker(ic.interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ic.kick:
				ic.mu.Lock()
				pending := ic.pending
				ic.pending = map[string]bool{}
				ic.mu.Unlock()
				for repo, pushed := range pending {
					ic.report(repo, ic.syncRepository(ctx, repo, pushed))
				}
			case <-ticker.C:
				ic.resync(ctx)
			}
		}
	}()
}

// stop ends the loop and the events listener.
func (ic *imageController) stop() {
	if ic.cancel != nil {
		ic.cancel()
		<-ic.done
	}
	_ = ic.events.Close()
}

// report logs a repository's sync error once (until it changes).
func (ic *imageController) report(repo string, err error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if ic.lastErr[repo] == msg {
		return
	}
	ic.lastErr[repo] = msg
	if err != nil {
		ic.logf("registry %s: image controller: %s: %v", ic.name, repo, err)
	}
}

// resync brings every ImageStream of the cluster up to date.
func (ic *imageController) resync(ctx context.Context) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(imageStreamListGVK)
	if err := ic.c.List(ctx, list); err != nil {
		ic.report("(all)", fmt.Errorf("list ImageStreams: %w", err))
		return
	}
	ic.report("(all)", nil)
	for i := range list.Items {
		is := &list.Items[i]
		repo := is.GetNamespace() + "/" + is.GetName()
		ic.report(repo, ic.syncStream(ctx, is))
	}
}

// syncRepository syncs the ImageStream of repo; pushed says a manifest was pushed to it, which
// creates the stream when it is missing and its namespace exists, as OpenShift's registry
// does.
func (ic *imageController) syncRepository(ctx context.Context, repo string, pushed bool) error {
	ns, name, ok := strings.Cut(repo, "/")
	if !ok || strings.Contains(name, "/") {
		return nil // not an ImageStream's repository
	}
	is := &unstructured.Unstructured{}
	is.SetGroupVersionKind(imageStreamGVK)
	err := ic.c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, is)
	switch {
	case apierrors.IsNotFound(err) && pushed:
		if err := ic.c.Get(ctx, types.NamespacedName{Name: ns}, &corev1.Namespace{}); err != nil {
			return client.IgnoreNotFound(err)
		}
		is = &unstructured.Unstructured{}
		is.SetGroupVersionKind(imageStreamGVK)
		is.SetNamespace(ns)
		is.SetName(name)
		if err := ic.c.Create(ctx, is); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create the ImageStream of a pushed repository: %w", err)
		}
		if err := ic.c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, is); err != nil {
			return err
		}
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	}
	return ic.syncStream(ctx, is)
}

// syncStream writes is's status from the registry: the repositories, and each tag's history
// with a new item on top when the tag's digest changed. Tags the registry no longer holds
// keep their history, as in OpenShift.
func (ic *imageController) syncStream(ctx context.Context, is *unstructured.Unstructured) error {
	repo := is.GetNamespace() + "/" + is.GetName()
	tags, err := ic.tags(ctx, repo)
	if err != nil {
		return err
	}
	status, _, _ := unstructured.NestedMap(is.Object, "status")
	if status == nil {
		status = map[string]any{}
	}
	before := runtime.DeepCopyJSONValue(status)
	status["dockerImageRepository"] = InternalHost + "/" + repo
	status["publicDockerImageRepository"] = ic.public + "/" + repo
	history, _ := status["tags"].([]any)
	byTag := map[string]map[string]any{}
	for _, h := range history {
		if m, ok := h.(map[string]any); ok {
			if t, _ := m["tag"].(string); t != "" {
				byTag[t] = m
			}
		}
	}
	for tag, digest := range tags {
		h := byTag[tag]
		if h == nil {
			h = map[string]any{"tag": tag}
			byTag[tag] = h
		}
		items, _ := h["items"].([]any)
		var topImage string
		var topGeneration int64
		if len(items) > 0 {
			top, _ := items[0].(map[string]any)
			topImage, _ = top["image"].(string)
			topGeneration, _ = top["generation"].(int64)
		}
		if topImage == digest {
			continue
		}
		generation := max(is.GetGeneration(), topGeneration+1)
		item := map[string]any{
			"created":              time.Now().UTC().Format(time.RFC3339),
			"dockerImageReference": InternalHost + "/" + repo + "@" + digest,
			"image":                digest,
			"generation":           generation,
		}
		// Newest first; an image the tag pointed at before moves to the top.
		kept := []any{item}
		for _, old := range items {
			if m, _ := old.(map[string]any); m == nil || m["image"] != digest {
				kept = append(kept, old)
			}
		}
		h["items"] = kept
	}
	names := make([]string, 0, len(byTag))
	for t := range byTag {
		names = append(names, t)
	}
	slices.Sort(names)
	sorted := make([]any, 0, len(names))
	for _, t := range names {
		sorted = append(sorted, byTag[t])
	}
	if len(sorted) > 0 {
		status["tags"] = sorted
	}
	if equality.Semantic.DeepEqual(before, status) {
		return nil
	}
	is.Object["status"] = status
	if err := ic.c.Status().Update(ctx, is); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			// Changed or deleted meanwhile: the next round reads it again.
			ic.requeue(repo)
			return nil
		}
		return fmt.Errorf("write the status of ImageStream %s: %w", repo, err)
	}
	return nil
}

// requeue syncs repo again soon (not creating its stream).
func (ic *imageController) requeue(repo string) {
	ic.mu.Lock()
	if _, queued := ic.pending[repo]; !queued {
		ic.pending[repo] = false
	}
	ic.mu.Unlock()
	go func() {
		time.Sleep(100 * time.Millisecond)
		ic.wake()
	}()
}

// tags returns each tag of repo in the registry and the digest it names; none when the
// repository does not exist.
func (ic *imageController) tags(ctx context.Context, repo string) (map[string]string, error) {
	names, err := listTags(ctx, ic.hc, "http://"+ic.backend, repo)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(names))
	for _, tag := range names {
		digest, err := headDigest(ctx, ic.hc, "http://"+ic.backend, repo, tag)
		if errors.Is(err, errNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out[tag] = digest
	}
	return out, nil
}

// errNotFound says that the registry does not hold what was asked for.
var errNotFound = errors.New("not found in the registry")

// listTags lists the tags of repo at base (scheme://host:port), following pagination; a
// repository the registry does not know has none.
func listTags(ctx context.Context, hc *http.Client, base, repo string) ([]string, error) {
	var out []string
	next := base + "/v2/" + repo + "/tags/list"
	for next != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("list the tags of %s: %w", repo, err)
		}
		var body struct {
			Tags []string `json:"tags"`
		}
		status := resp.StatusCode
		err = json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&body)
		_ = resp.Body.Close()
		switch {
		case status == http.StatusNotFound:
			return nil, nil
		case status != http.StatusOK:
			return nil, fmt.Errorf("list the tags of %s: %s", repo, http.StatusText(status))
		case err != nil:
			return nil, fmt.Errorf("list the tags of %s: %w", repo, err)
		}
		out = append(out, body.Tags...)
		next = nextLink(base, resp.Header.Get("Link"))
	}
	return out, nil
}

// nextLink is the URL of a `Link: </v2/...>; rel="next"` header, or "".
func nextLink(base, link string) string {
	if link == "" || !strings.Contains(link, `rel="next"`) {
		return ""
	}
	start, end := strings.Index(link, "<"), strings.Index(link, ">")
	if start < 0 || end <= start {
		return ""
	}
	u, err := url.Parse(link[start+1 : end])
	if err != nil {
		return ""
	}
	b, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return b.ResolveReference(u).String()
}

// headDigest returns the digest of the manifest tag names in repo at base.
func headDigest(ctx context.Context, hc *http.Client, base, repo, tag string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, base+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", manifestAccept)
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("read the digest of %s:%s: %w", repo, tag, err)
	}
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", errNotFound
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("read the digest of %s:%s: %s", repo, tag, resp.Status)
	}
	digest := resp.Header.Get("Docker-Content-Digest")
	if digest == "" {
		return "", fmt.Errorf("read the digest of %s:%s: no Docker-Content-Digest header", repo, tag)
	}
	return digest, nil
}
