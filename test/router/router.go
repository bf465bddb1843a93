package router

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

//go:embed routes.crd.yaml
var routeCRD []byte

// Namespace is where the router's pod and configuration live.
const Namespace = "openshift-ingress"

var routeListGVK = schema.GroupVersionKind{Group: "route.openshift.io", Version: "v1", Kind: "RouteList"}

// Router admits a cluster's Routes and passes their connections through (see the package
// documentation).
type Router struct {
	c       client.Client
	domain  string
	resolve func(host, ip string)

	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	config string
	// pods are every router pod so far, the current one last: the earlier ones are kept
	// (idle) until Stop, so that their logs can still be read.
	pods    []string
	ip      string
	serial  int
	lastErr error
}

// Start installs the Route API on the cluster of c, waits until it is served, and runs the
// router: Routes without a host get <name>-<namespace>.<domain>; resolve is told each host
// and the router's address (a stand-in for a wildcard DNS record).
func Start(ctx context.Context, c client.Client, domain string, resolve func(host, ip string)) (*Router, error) {
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(routeCRD, &crd.Object); err != nil {
		return nil, fmt.Errorf("route CRD: %w", err)
	}
	if err := c.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("install the Route API: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(routeListGVK)
		err := c.List(ctx, list)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the Route API is not served: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &Router{c: c, domain: domain, resolve: resolve, cancel: cancel, done: make(chan struct{})}
	go r.run(runCtx)
	return r, nil
}

// Stop ends the router, deletes its pod and the Route API (Routes go with it), and waits
// until the API is gone, so that later DVMs on the cluster fall back to NodePort.
func (r *Router) Stop(ctx context.Context) error {
	r.cancel()
	<-r.done
	var errs []error
	for _, pod := range r.Pods() {
		errs = append(errs, client.IgnoreNotFound(r.c.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: pod}},
			client.GracePeriodSeconds(0))))
	}
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	crd.SetName("routes.route.openshift.io")
	errs = append(errs, client.IgnoreNotFound(r.c.Delete(ctx, crd)))
	deadline := time.Now().Add(time.Minute)
	for {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(routeListGVK)
		err := r.c.List(ctx, list)
		if apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err) {
			break
		}
		if time.Now().After(deadline) {
			errs = append(errs, errors.New("the Route API is still served a minute after its CRD was deleted"))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.Join(errs...)
}

// Err is the last error of the router's loop, nil when the last round went well.
func (r *Router) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// Pods are the router's pods in Namespace so far, the current one last (their logs show
// every connection and its backend).
func (r *Router) Pods() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pods)
}

func (r *Router) run(ctx context.Context) {
	defer close(r.done)
	for {
		err := r.sync(ctx)
		r.mu.Lock()
		r.lastErr = err
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// backend is one Route: its host and the address of its Service.
type backend struct {
	host, address string
	route         *unstructured.Unstructured
}

// sync makes the router serve the current Routes and admits them.
func (r *Router) sync(ctx context.Context) error {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(routeListGVK)
	if err := r.c.List(ctx, list); err != nil {
		return err
	}
	var backends []backend
	for i := range list.Items {
		route := &list.Items[i]
		b, err := r.backendOf(ctx, route)
		if err != nil {
			return err
		}
		if b != nil {
			backends = append(backends, *b)
		}
	}
	slices.SortFunc(backends, func(a, b backend) int { return strings.Compare(a.host, b.host) })
	config := haproxyConfig(backends)
	r.mu.Lock()
	changed := config != r.config
	r.mu.Unlock()
	if changed {
		if err := r.replacePod(ctx, config); err != nil {
			return err
		}
	}
	r.mu.Lock()
	ip := r.ip
	r.mu.Unlock()
	for _, b := range backends {
		r.resolve(b.host, ip)
		if err := r.admit(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// backendOf resolves a passthrough Route to its host and Service address; nil while the
// Service has no cluster IP.
func (r *Router) backendOf(ctx context.Context, route *unstructured.Unstructured) (*backend, error) {
	host, _, _ := unstructured.NestedString(route.Object, "spec", "host")
	if host == "" {
		host = route.GetName() + "-" + route.GetNamespace() + "." + r.domain
	}
	svcName, _, _ := unstructured.NestedString(route.Object, "spec", "to", "name")
	svc := &corev1.Service{}
	if err := r.c.Get(ctx, client.ObjectKey{Namespace: route.GetNamespace(), Name: svcName}, svc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone || len(svc.Spec.Ports) == 0 {
		return nil, nil
	}
	port := svc.Spec.Ports[0].Port
	target, _, _ := unstructured.NestedFieldNoCopy(route.Object, "spec", "port", "targetPort")
	for _, p := range svc.Spec.Ports {
		if p.Name == fmt.Sprint(target) || p.TargetPort.String() == fmt.Sprint(target) {
			port = p.Port
		}
	}
	return &backend{host: host, address: fmt.Sprintf("%s:%d", svc.Spec.ClusterIP, port), route: route}, nil
}

// haproxyConfig passes TLS connections on 443 through by SNI, logging each one.
func haproxyConfig(backends []backend) string {
	var b strings.Builder
	b.WriteString("global\n  log stdout format raw local0\ndefaults\n  mode tcp\n  log global\n  option tcplog\n" +
		"  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\n" +
		"frontend passthrough\n  bind :443\n  tcp-request inspect-delay 5s\n  tcp-request content accept if { req_ssl_hello_type 1 }\n")
	for i, be := range backends {
		fmt.Fprintf(&b, "  use_backend be_%d if { req_ssl_sni -i %s }\n", i, be.host)
	}
	for i, be := range backends {
		fmt.Fprintf(&b, "backend be_%d\n  server route_%s %s\n", i, strings.ReplaceAll(be.host, ".", "_"), be.address)
	}
	return b.String()
}

// replacePod starts a router pod with config and waits until it runs; names resolve to it
// from then on.
func (r *Router) replacePod(ctx context.Context, config string) error {
	r.mu.Lock()
	r.serial++
	name := fmt.Sprintf("router-%d", r.serial)
	r.mu.Unlock()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: name}, Data: map[string]string{"haproxy.cfg": config}}
	if err := r.c.Create(ctx, cm); err != nil {
		return fmt.Errorf("router configuration: %w", err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: name, Labels: map[string]string{"app": "router"}},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr.To(false),
			Containers: []corev1.Container{{Name: "haproxy", Image: "haproxy",
				Command:      []string{"haproxy", "-db", "-f", "/etc/router/haproxy.cfg"},
				Ports:        []corev1.ContainerPort{{Name: "https", ContainerPort: 443}},
				VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/router"}}}},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}},
		}}
	if err := r.c.Create(ctx, pod); err != nil {
		return fmt.Errorf("router pod: %w", err)
	}
	deadline := time.Now().Add(time.Minute)
	for pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" {
		if time.Now().After(deadline) {
			return fmt.Errorf("router pod %s is not running: %s", name, pod.Status.Phase)
		}
		time.Sleep(100 * time.Millisecond)
		if err := r.c.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.config, r.ip = config, pod.Status.PodIP
	r.pods = append(r.pods, name)
	r.mu.Unlock()
	return nil
}

// admit records in the Route's status that this router serves it under its host.
func (r *Router) admit(ctx context.Context, b backend) error {
	ingress, _, _ := unstructured.NestedSlice(b.route.Object, "status", "ingress")
	if len(ingress) > 0 {
		return nil
	}
	status := map[string]any{"ingress": []any{map[string]any{
		"host": b.host, "routerName": "default", "wildcardPolicy": "None",
		"conditions": []any{map[string]any{"type": "Admitted", "status": "True", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}},
	}}}
	route := b.route.DeepCopy()
	route.Object["status"] = status
	if err := r.c.Status().Update(ctx, route); err != nil && !apierrors.IsConflict(err) {
		return fmt.Errorf("admit Route %s/%s: %w", route.GetNamespace(), route.GetName(), err)
	}
	return nil
}
