package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/scheme"
	"github.com/ferrymtc/ferry/pkg/secretref"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

const (
	// maxLogBytes caps each container log: the kubelet rotates logs at 10 MiB by default, so
	// this is the current file, and a runaway pod cannot make the archive unwieldy.
	maxLogBytes int64 = 10 << 20
	// logTimeout bounds the read of one log, longer than remoteTimeout since a large log
	// streams for a while from a healthy cluster.
	logTimeout = time.Minute
	// hookPodLabel is on every hook Job's pods (controllers/migmigration), valued with the
	// MigHook's UID.
	hookPodLabel = "mighook"
	// hostDirDefault names the host's directory when no MigCluster is the host.
	hostDirDefault = "host"
)

// Label selectors of the pods whose logs are collected. A pod matching several is taken
// once. The operator's are MTC's labels, which Ferry's Deployment keeps
// (config/manager/manager.yaml); Velero's server and node agents carry component=velero.
var (
	operatorPodSelectors  = []string{"control-plane=controller-manager", "app=migration"}
	veleroPodSelectors    = []string{"component=velero"}
	migrationPodSelectors = []string{transfer.LabelApp + "=" + transfer.AppTransfer, hookPodLabel}
)

// veleroKinds are the Velero objects collected: what a migration creates and what reports
// on its volume copies.
var veleroKinds = []string{"Backup", "Restore", "BackupStorageLocation", "VolumeSnapshotLocation", "PodVolumeBackup", "PodVolumeRestore"}

// logLimits are the --since and --tail flags.
type logLimits struct {
	since time.Duration
	tail  int64
}

// target is one cluster being collected, with the directory of the archive it goes to.
type target struct {
	dir, name string
	client    client.Client
	cs        kubernetes.Interface
}

// gatherer collects from the host cluster and every MigCluster into arc.
type gatherer struct {
	o        *Options
	arc      *archive
	host     target
	hostURL  string
	ns       string
	veleroNS string
	limits   logLimits
	clusters []migv1.MigCluster
	plans    []migv1.MigPlan
	hooks    []migv1.MigHook
}

// newGatherer connects to the host cluster and checks it answers: without the host there is
// nothing to collect, so that is an error rather than an archive of failures.
func newGatherer(ctx context.Context, o *Options, limits logLimits) (*gatherer, error) {
	cfg, err := o.RESTConfig()
	if err != nil {
		return nil, err
	}
	c, err := o.Client()
	if err != nil {
		return nil, err
	}
	cs, err := o.Clientset()
	if err != nil {
		return nil, err
	}
	if err := probe(ctx, cs); err != nil {
		return nil, fmt.Errorf("reach the host cluster %s: %w", cfg.Host, err)
	}
	return &gatherer{o: o, host: target{name: "host", client: c, cs: cs}, hostURL: cfg.Host,
		ns: o.Namespace(), veleroNS: settings.DefaultVeleroNamespace, limits: limits}, nil
}

// probe makes one bounded request (GET /version), so that a cluster that cannot be reached
// costs remoteTimeout once instead of once per list.
func probe(ctx context.Context, cs kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	return clustercache.Classify(cs.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Error())
}

// run collects the host, then each MigCluster; a failure is recorded and the rest goes on.
func (g *gatherer) run(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	s, err := settings.NewReader(g.host.client, g.ns).Get(sctx)
	cancel()
	if err != nil {
		g.arc.fail("host: read the MigrationController (Velero's namespace assumed %s): %v", g.veleroNS, err)
	} else {
		g.veleroNS = s.VeleroNamespace
	}
	g.gatherHost(ctx)
	for i := range g.clusters {
		if ctx.Err() != nil {
			return
		}
		g.gatherCluster(ctx, &g.clusters[i])
	}
}

// summaryHeader opens summary.txt.
func (g *gatherer) summaryHeader() string {
	limits := "all"
	if g.limits.since > 0 {
		limits = "since " + g.limits.since.String()
	}
	if g.limits.tail >= 0 {
		limits += fmt.Sprintf(", last %d lines", g.limits.tail)
	}
	return fmt.Sprintf("Ferry must-gather, %s\nHost cluster: %s\nMigration namespace: %s\nVelero namespace: %s\nLogs: %s (at most %d bytes per container)\n",
		g.arc.now.Format(time.RFC3339), g.hostURL, g.ns, g.veleroNS, limits, maxLogBytes)
}

// gatherHost collects the migration namespace of the host. Secrets are read before anything
// is written, so that their values are known to the archive's scrubber from the first file.
func (g *gatherer) gatherHost(ctx context.Context) {
	g.progress("Collecting from the host cluster (%s)...", g.hostURL)
	objs := g.listMigrationObjects(ctx)
	g.host.dir = hostDir(g.clusters)
	g.host.name = g.host.dir
	g.arc.note("%s/: the host cluster %s, migration namespace %s", g.host.dir, g.hostURL, g.ns)
	g.gatherSecrets(ctx, objs)
	for _, u := range objs {
		g.arc.addObject(objectPath(g.host.dir, &u), u.Object)
	}
	g.gatherVelero(ctx, g.host, g.ns)
	g.gatherEvents(ctx, g.host, g.ns)
	g.gatherPods(ctx, g.host, g.ns, operatorPodSelectors)
}

// listMigrationObjects lists every Ferry kind in the migration namespace, and keeps the
// MigClusters, MigPlans and MigHooks that say what to collect elsewhere.
func (g *gatherer) listMigrationObjects(ctx context.Context) []unstructured.Unstructured {
	var all []unstructured.Unstructured
	for _, kind := range migrationKinds() {
		items, err := listKind(ctx, g.host.client, migv1.GroupVersion.WithKind(kind), g.ns)
		if err != nil {
			g.listFailed(g.host, kind+"s in "+g.ns, err)
			continue
		}
		all = append(all, items...)
		for i := range items {
			g.keep(&items[i])
		}
	}
	return all
}

// keep decodes the objects that direct the rest of the gather.
func (g *gatherer) keep(u *unstructured.Unstructured) {
	var err error
	switch u.GetKind() {
	case "MigCluster":
		var c migv1.MigCluster
		if err = fromUnstructured(u, &c); err == nil {
			g.clusters = append(g.clusters, c)
		}
	case "MigPlan":
		var p migv1.MigPlan
		if err = fromUnstructured(u, &p); err == nil {
			g.plans = append(g.plans, p)
		}
	case "MigHook":
		var h migv1.MigHook
		if err = fromUnstructured(u, &h); err == nil {
			g.hooks = append(g.hooks, h)
		}
	}
	if err != nil {
		g.arc.fail("host: decode %s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

// migrationKinds are the kinds of api/v1alpha1 that have a List type, read from the scheme
// so that a kind added to the API is collected without changing this file.
func migrationKinds() []string {
	s := scheme.New()
	var kinds []string
	for kind := range s.KnownTypes(migv1.GroupVersion) {
		if base, ok := strings.CutSuffix(kind, "List"); ok && s.Recognizes(migv1.GroupVersion.WithKind(base)) {
			kinds = append(kinds, base)
		}
	}
	sort.Strings(kinds)
	return kinds
}

// hostDir is the host's directory: the host MigCluster's name, so that what is collected of
// the host as a MigCluster lands in the same place.
func hostDir(clusters []migv1.MigCluster) string {
	for _, c := range clusters {
		if c.Spec.IsHostCluster {
			return c.Name
		}
	}
	return hostDirDefault
}

// gatherSecrets writes, as redacted metadata, the Secrets of the migration namespace and
// those the migration objects reference (token and storage credentials, usually in
// openshift-config), and registers their values with the scrubber.
func (g *gatherer) gatherSecrets(ctx context.Context, objs []unstructured.Unstructured) {
	secretGVK := corev1.SchemeGroupVersion.WithKind("Secret")
	items, err := listKind(ctx, g.host.client, secretGVK, g.ns)
	if err != nil {
		g.listFailed(g.host, "Secrets in "+g.ns, err)
	}
	for _, key := range referencedSecrets(objs, g.ns) {
		if key.Namespace == g.ns {
			continue // listed above
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(secretGVK)
		if err := g.getBounded(ctx, key, u); err != nil {
			g.listFailed(g.host, "Secret "+key.String(), err)
			continue
		}
		items = append(items, *u)
	}
	for i := range items {
		g.arc.scrubber.addSecret(items[i].Object)
	}
	for i := range items {
		g.arc.addObject(objectPath(g.host.dir, &items[i]), items[i].Object)
	}
}

func (g *gatherer) getBounded(ctx context.Context, key types.NamespacedName, obj client.Object) error {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	return g.host.client.Get(ctx, key, obj)
}

// referencedSecrets are the Secrets the objects name in a *SecretRef field, in the
// namespaces secretref lets migration objects use (the rest the operator never reads, so
// neither does must-gather), sorted and without duplicates.
func referencedSecrets(objs []unstructured.Unstructured, namespace string) []types.NamespacedName {
	seen := map[types.NamespacedName]bool{}
	var keys []types.NamespacedName
	for i := range objs {
		for _, ref := range secretRefs(objs[i].Object) {
			key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
			if key.Namespace == "" {
				key.Namespace = objs[i].GetNamespace()
			}
			if seen[key] || secretref.Check(key, namespace) != nil {
				continue
			}
			seen[key] = true
			keys = append(keys, key)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// secretRefs finds the {name, namespace} maps under keys ending in SecretRef anywhere in obj.
func secretRefs(obj map[string]any) []corev1.ObjectReference {
	var refs []corev1.ObjectReference
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				if ref, ok := child.(map[string]any); ok && strings.HasSuffix(strings.ToLower(k), "secretref") {
					name, _ := ref["name"].(string)
					ns, _ := ref["namespace"].(string)
					if name != "" {
						refs = append(refs, corev1.ObjectReference{Namespace: ns, Name: name})
					}
				}
				walk(child)
			}
		case []any:
			for _, child := range t {
				walk(child)
			}
		}
	}
	walk(obj)
	return refs
}

// gatherCluster collects from one MigCluster, through its token (or, for the host, the
// user's kubeconfig). A cluster that cannot be reached is recorded and skipped.
func (g *gatherer) gatherCluster(ctx context.Context, c *migv1.MigCluster) {
	g.progress("Collecting from MigCluster %s...", c.Name)
	where := c.Spec.URL
	if c.Spec.IsHostCluster {
		where = "the host cluster"
	}
	t, err := g.connect(ctx, c)
	if err != nil {
		g.arc.fail("%s: cluster not reached (%s): %v", c.Name, where, err)
		g.arc.note("%s/: MigCluster %s (%s): NOT REACHED, see errors.txt", c.Name, c.Name, where)
		return
	}
	g.arc.note("%s/: MigCluster %s (%s): collected", c.Name, c.Name, where)
	g.gatherVelero(ctx, t, g.veleroNS)
	g.gatherEvents(ctx, t, g.veleroNS)
	g.gatherPods(ctx, t, g.veleroNS, veleroPodSelectors)
	for _, ns := range clusterNamespaces(c, g.plans, g.hooks) {
		g.gatherEvents(ctx, t, ns)
		g.gatherPods(ctx, t, ns, migrationPodSelectors)
	}
}

// connect builds the clients of a MigCluster and probes it, within remoteTimeout.
func (g *gatherer) connect(ctx context.Context, c *migv1.MigCluster) (target, error) {
	cctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	cc, err := g.o.ClusterClients(cctx, &corev1.ObjectReference{Namespace: c.Namespace, Name: c.Name})
	if err != nil {
		return target{}, err
	}
	if err := probe(ctx, cc.Clientset); err != nil {
		return target{}, err
	}
	return target{dir: c.Name, name: c.Name, client: cc.Client, cs: cc.Clientset}, nil
}

// clusterNamespaces are the namespaces of cluster that plans migrate from (it is their
// source) or to (their destination), and where their hooks run on it: "src:dest" entries
// are split by side. A hook whose MigHook is missing counts on both sides.
func clusterNamespaces(cluster *migv1.MigCluster, plans []migv1.MigPlan, hooks []migv1.MigHook) []string {
	set := map[string]bool{}
	for i := range plans {
		p := &plans[i]
		src := refersTo(p.Spec.SrcMigClusterRef, cluster, p.Namespace)
		dst := refersTo(p.Spec.DestMigClusterRef, cluster, p.Namespace)
		for _, entry := range p.Spec.Namespaces {
			s, d, _ := strings.Cut(entry, ":")
			if d == "" {
				d = s
			}
			set[s] = set[s] || src
			set[d] = set[d] || dst
		}
		for _, h := range p.Spec.Hooks {
			if h.ExecutionNamespace == "" || h.Reference == nil {
				continue
			}
			side := hookTarget(hooks, h.Reference, p.Namespace)
			set[h.ExecutionNamespace] = set[h.ExecutionNamespace] ||
				(src && side != migv1.HookTargetDestination) || (dst && side != migv1.HookTargetSource)
		}
	}
	var out []string
	for ns, ok := range set {
		if ok && ns != "" {
			out = append(out, ns)
		}
	}
	sort.Strings(out)
	return out
}

// refersTo reports whether ref (in an object of namespace owner) names cluster.
func refersTo(ref *corev1.ObjectReference, cluster *migv1.MigCluster, owner string) bool {
	if ref == nil || ref.Name != cluster.Name {
		return false
	}
	ns := ref.Namespace
	if ns == "" {
		ns = owner
	}
	return ns == cluster.Namespace
}

// hookTarget is the targetCluster of the MigHook ref names, "" when there is no such hook.
func hookTarget(hooks []migv1.MigHook, ref *corev1.ObjectReference, owner string) string {
	ns := ref.Namespace
	if ns == "" {
		ns = owner
	}
	for i := range hooks {
		if hooks[i].Name == ref.Name && hooks[i].Namespace == ns {
			return hooks[i].Spec.TargetCluster
		}
	}
	return ""
}

// gatherVelero writes Velero's objects of namespace.
func (g *gatherer) gatherVelero(ctx context.Context, t target, namespace string) {
	for _, kind := range veleroKinds {
		items, err := listKind(ctx, t.client, velerov1.SchemeGroupVersion.WithKind(kind), namespace)
		if err != nil {
			g.listFailed(t, kind+"s in "+namespace, err)
			continue
		}
		for i := range items {
			g.arc.addObject(objectPath(t.dir, &items[i]), items[i].Object)
		}
	}
}

// gatherEvents writes the Events of namespace as one List, oldest first: read in order, they
// tell what happened, which separate files would not.
func (g *gatherer) gatherEvents(ctx context.Context, t target, namespace string) {
	items, err := listKind(ctx, t.client, corev1.SchemeGroupVersion.WithKind("Event"), namespace)
	if err != nil {
		g.listFailed(t, "Events in "+namespace, err)
		return
	}
	sort.SliceStable(items, func(i, j int) bool { return eventTime(&items[i]) < eventTime(&items[j]) })
	list := make([]any, 0, len(items))
	for i := range items {
		list = append(list, items[i].Object)
	}
	g.arc.addObject(archiveName(t.dir, namespace, "events.yaml"),
		map[string]any{"apiVersion": "v1", "kind": "List", "items": list})
}

// eventTime is when an Event last happened, as an RFC 3339 string (which sorts as time).
func eventTime(u *unstructured.Unstructured) string {
	for _, field := range []string{"lastTimestamp", "eventTime", "firstTimestamp"} {
		if s, _, _ := unstructured.NestedString(u.Object, field); s != "" {
			return s
		}
	}
	return u.GetCreationTimestamp().UTC().Format(time.RFC3339)
}

// gatherPods writes the pods of namespace that match any of selectors, and their logs.
func (g *gatherer) gatherPods(ctx context.Context, t target, namespace string, selectors []string) {
	seen := map[string]bool{}
	for _, sel := range selectors {
		pods, err := listPods(ctx, t.cs, namespace, sel)
		if err != nil {
			g.listFailed(t, fmt.Sprintf("pods %s in %s", sel, namespace), err)
			continue
		}
		for i := range pods {
			if !seen[pods[i].Name] {
				seen[pods[i].Name] = true
				g.gatherPod(ctx, t, &pods[i])
			}
		}
	}
}

func listPods(ctx context.Context, cs kubernetes.Interface, namespace, selector string) ([]corev1.Pod, error) {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	list, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// gatherPod writes a pod (its status says why a container failed) and its containers' logs.
func (g *gatherer) gatherPod(ctx context.Context, t target, pod *corev1.Pod) {
	dir := archiveName(t.dir, pod.Namespace, "pods", pod.Name)
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pod)
	if err != nil {
		g.arc.fail("%s: pod %s/%s: %v", t.name, pod.Namespace, pod.Name, err)
		return
	}
	obj["apiVersion"], obj["kind"] = "v1", "Pod"
	g.arc.addObject(dir+"/pod.yaml", obj)
	for _, l := range podLogs(pod) {
		g.gatherLog(ctx, t, pod, l, dir)
	}
}

// containerLog is one log of a container: the current run's or the previous one's.
type containerLog struct {
	container string
	previous  bool
}

// file is the log's name in the pod's directory.
func (l containerLog) file() string {
	if l.previous {
		return l.container + ".previous.log"
	}
	return l.container + ".log"
}

// podLogs are the logs a pod has: those of containers (init ones too) that started, and of
// a previous run when a container restarted (the crash is usually there). A pod that never
// ran has none, and asking would only add errors.
func podLogs(pod *corev1.Pod) []containerLog {
	var logs []containerLog
	statuses := append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, s := range statuses {
		if s.State.Running != nil || s.State.Terminated != nil {
			logs = append(logs, containerLog{container: s.Name})
		}
		if s.LastTerminationState.Terminated != nil {
			logs = append(logs, containerLog{container: s.Name, previous: true})
		}
	}
	return logs
}

// gatherLog writes one container log, within the --since and --tail limits.
func (g *gatherer) gatherLog(ctx context.Context, t target, pod *corev1.Pod, l containerLog, dir string) {
	opts := &corev1.PodLogOptions{Container: l.container, Previous: l.previous, LimitBytes: ptr.To(maxLogBytes)}
	if g.limits.since > 0 {
		opts.SinceSeconds = ptr.To(max(int64(g.limits.since.Seconds()), 1))
	}
	if g.limits.tail >= 0 {
		opts.TailLines = ptr.To(g.limits.tail)
	}
	ctx, cancel := context.WithTimeout(ctx, logTimeout)
	defer cancel()
	data, err := t.cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, opts).DoRaw(ctx)
	if err != nil {
		g.listFailed(t, fmt.Sprintf("log of %s/%s %s", pod.Namespace, pod.Name, l.file()), err)
		return
	}
	g.arc.addText(dir+"/"+l.file(), data)
}

// listKind lists the objects of kind gvk in namespace, sorted by name, within remoteTimeout.
func listKind(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, namespace string) ([]unstructured.Unstructured, error) {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	items := list.Items
	for i := range items {
		items[i].SetGroupVersionKind(gvk) // a list's items may come without apiVersion and kind
	}
	sort.Slice(items, func(i, j int) bool { return items[i].GetName() < items[j].GetName() })
	return items, nil
}

// objectPath is <dir>/<namespace>/<kind, lower case>/<name>.yaml.
func objectPath(dir string, u *unstructured.Unstructured) string {
	return archiveName(dir, u.GetNamespace(), strings.ToLower(u.GetKind()), u.GetName()+".yaml")
}

// listFailed records a failed read: as skipped when the token may not read the kind or the
// cluster does not serve it (normal with least-privilege tokens and optional CRDs) or the
// object went away meanwhile, else as an error.
func (g *gatherer) listFailed(t target, what string, err error) {
	switch {
	case apierrors.IsForbidden(err):
		g.arc.skip("%s: %s: not permitted", t.name, what)
	case meta.IsNoMatchError(err), apierrors.IsNotFound(err):
		g.arc.skip("%s: %s: not found (a kind the cluster does not serve, or a pod gone)", t.name, what)
	default:
		g.arc.fail("%s: %s: %v", t.name, what, err)
	}
}

// progress tells the user, on stderr, which cluster is being collected.
func (g *gatherer) progress(format string, args ...any) {
	_, _ = fmt.Fprintf(g.o.ErrOut, format+"\n", args...)
}
