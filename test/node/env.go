package node

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

// defaultPath is the PATH of a container whose spec sets none (images usually do).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// containerEnv builds a container's environment as the kubelet does: the API server's address
// first, then envFrom, then env, each value expanding $(NAME) references to what came before.
// KUBERNETES_SERVICE_HOST/PORT point at a forwarder on the pod's loopback (see doc.go), where
// the API server's certificate is valid.
func (n *Node) containerEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]string, error) {
	var names []string
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			names = append(names, k)
		}
		vals[k] = v
	}
	set("PATH", defaultPath)
	set("HOSTNAME", pod.Name)
	set("KUBERNETES_SERVICE_HOST", "127.0.0.1")
	set("KUBERNETES_SERVICE_PORT", strconv.Itoa(n.apiPort))
	for _, from := range c.EnvFrom {
		data, err := n.envFromData(ctx, pod.Namespace, from)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		v, err := n.envValue(ctx, pod, c, e, vals)
		if err != nil {
			return nil, err
		}
		if v != nil {
			set(e.Name, *v)
		}
	}
	env := make([]string, 0, len(names))
	for _, k := range names {
		env = append(env, k+"="+vals[k])
	}
	return env, nil
}

func (n *Node) envFromData(ctx context.Context, namespace string, from corev1.EnvFromSource) (map[string]string, error) {
	data := map[string]string{}
	switch {
	case from.ConfigMapRef != nil:
		files, err := n.configMapFiles(ctx, namespace, from.ConfigMapRef.Name, nil, from.ConfigMapRef.Optional)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data[f.path] = string(f.data)
		}
	case from.SecretRef != nil:
		files, err := n.secretFiles(ctx, namespace, from.SecretRef.Name, nil, from.SecretRef.Optional)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data[f.path] = string(f.data)
		}
	}
	return data, nil
}

// envValue resolves one env entry; nil means an optional reference that is absent.
func (n *Node) envValue(ctx context.Context, pod *corev1.Pod, c *corev1.Container, e corev1.EnvVar, vals map[string]string) (*string, error) {
	src := e.ValueFrom
	if src == nil {
		return ptr.To(expand(e.Value, vals)), nil
	}
	switch {
	case src.FieldRef != nil:
		v, err := n.fieldValue(pod, src.FieldRef.FieldPath)
		return &v, err
	case src.ResourceFieldRef != nil:
		ref := *src.ResourceFieldRef
		if ref.ContainerName == "" {
			ref.ContainerName = c.Name
		}
		v, err := n.resourceValue(pod, &ref)
		return &v, err
	case src.ConfigMapKeyRef != nil:
		ref := src.ConfigMapKeyRef
		files, err := n.configMapFiles(ctx, pod.Namespace, ref.Name, []corev1.KeyToPath{{Key: ref.Key, Path: ref.Key}}, ref.Optional)
		return optionalValue(files, err, ref.Optional)
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		files, err := n.secretFiles(ctx, pod.Namespace, ref.Name, []corev1.KeyToPath{{Key: ref.Key, Path: ref.Key}}, ref.Optional)
		return optionalValue(files, err, ref.Optional)
	}
	return nil, fmt.Errorf("env %s: unsupported valueFrom", e.Name)
}

func optionalValue(files []file, err error, optional *bool) (*string, error) {
	if err != nil {
		if ptr.Deref(optional, false) {
			return nil, nil
		}
		return nil, err
	}
	if len(files) == 0 {
		return nil, nil
	}
	return ptr.To(string(files[0].data)), nil
}

// fieldValue resolves a downward API field path.
func (n *Node) fieldValue(pod *corev1.Pod, path string) (string, error) {
	podIP := n.podIP(pod.UID)
	if key, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[key], nil
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[key], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return n.ip, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	}
	return "", fmt.Errorf("field path %q is not supported", path)
}

// subscript parses `prefix['key']`.
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "']")
}

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q\n", k, m[k])
	}
	return b.String()
}

// resourceValue resolves a resourceFieldRef: the container's request or limit, a limit
// defaulting to the node's allocatable, divided by the divisor and rounded up.
func (n *Node) resourceValue(pod *corev1.Pod, ref *corev1.ResourceFieldSelector) (string, error) {
	var c *corev1.Container
	for _, cc := range allContainers(pod) {
		if cc.Name == ref.ContainerName {
			c = &cc
			break
		}
	}
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef: no container %q", ref.ContainerName)
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("resourceFieldRef: unsupported resource %q", ref.Resource)
	}
	var q resource.Quantity
	switch kind {
	case "limits":
		q, ok = c.Resources.Limits[corev1.ResourceName(name)]
		if !ok {
			q = capacity()[corev1.ResourceName(name)]
		}
	case "requests":
		q = c.Resources.Requests[corev1.ResourceName(name)]
	default:
		return "", fmt.Errorf("resourceFieldRef: unsupported resource %q", ref.Resource)
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if name == string(corev1.ResourceCPU) {
		return strconv.FormatInt(int64(math.Ceil(float64(q.MilliValue())/float64(divisor.MilliValue()))), 10), nil
	}
	return strconv.FormatInt(int64(math.Ceil(float64(q.Value())/float64(divisor.Value()))), 10), nil
}

// expand replaces $(NAME) with vals[NAME] when defined and $$ with $, as Kubernetes expands
// env values, commands and args; unknown references stay as written.
func expand(s string, vals map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteByte(s[i])
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := vals[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// envMap turns KEY=VALUE pairs into a map for expansion.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
