package migplan

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	discoveryclient "k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// gvksIncompatibleMessage is MTC's message for GVKsIncompatible.
const gvksIncompatibleMessage = "Some namespaces contain GVKs incompatible with destination cluster. See: `incompatibleNamespaces` for details."

// cohabiting lists the resources Kubernetes serves under two groups from the same storage
// (the API server's AddCohabitatingResources; MTC and Velero use the same pairs): serving one
// of the pair on the destination serves the other.
var cohabiting = []struct {
	resource string
	groups   [2]string
}{
	{"deployments", [2]string{"extensions", "apps"}},
	{"daemonsets", [2]string{"extensions", "apps"}},
	{"replicasets", [2]string{"extensions", "apps"}},
	{"networkpolicies", [2]string{"extensions", "networking.k8s.io"}},
	{"ingresses", [2]string{"extensions", "networking.k8s.io"}},
	{"events", [2]string{"", "events.k8s.io"}},
}

// servedResources is what the destination serves: namespaced resources in any version, and
// the groups whose discovery failed, which are assumed served so that an unavailable
// aggregated API never reports resources as incompatible.
type servedResources struct {
	resources     map[schema.GroupResource]bool
	unknownGroups map[string]bool
}

// gvksIncompatible is the GVKsIncompatible condition when some namespaces hold resources
// the destination does not serve.
func gvksIncompatible(incompatible []migv1.IncompatibleNamespace) []migv1.Condition {
	if len(incompatible) == 0 {
		return nil
	}
	return []migv1.Condition{conditions.Warn(migv1.GVKsIncompatible, "", gvksIncompatibleMessage)}
}

// incompatibleNamespaces finds, in the given source namespaces, the resources with at least
// one instance that the destination does not serve. It reads the discovery of both clusters
// and lists (one item, metadata only) only the resources the destination lacks.
func (r *Reconciler) incompatibleNamespaces(ctx context.Context, f *facts, namespaces []string) ([]migv1.IncompatibleNamespace, error) {
	if len(namespaces) == 0 {
		return nil, nil
	}
	srcDiscovery, srcMetadata, err := r.remoteClients(ctx, f.src)
	if err != nil {
		return nil, fmt.Errorf("clients for source cluster %s: %w", f.src.Name, err)
	}
	destDiscovery, _, err := r.remoteClients(ctx, f.dest)
	if err != nil {
		return nil, fmt.Errorf("clients for destination cluster %s: %w", f.dest.Name, err)
	}
	lists, err := srcDiscovery.ServerPreferredNamespacedResourcesWithContext(ctx)
	if err := tolerateGroupFailures(ctx, f.src.Name, err); err != nil {
		return nil, err
	}
	served, err := destinationResources(ctx, destDiscovery, f.dest.Name)
	if err != nil {
		return nil, err
	}
	missing := missingResources(lists, served, f.settings.ExcludedResources)
	found := map[string][]schema.GroupVersionResource{}
	for _, gvr := range missing {
		for _, ns := range namespaces {
			has, err := hasInstances(ctx, srcMetadata, gvr, ns)
			if err != nil {
				return nil, fmt.Errorf("read source cluster %s: %w", f.src.Name, err)
			}
			if has {
				found[ns] = append(found[ns], gvr)
			}
		}
	}
	return byNamespace(found), nil
}

// remoteClients returns a discovery and a metadata client for the cluster, sharing one
// HTTP client.
func (r *Reconciler) remoteClients(ctx context.Context, cluster *migv1.MigCluster) (*discoveryclient.DiscoveryClient, metadata.Interface, error) {
	cfg, err := r.Clusters.RESTConfig(ctx, cluster)
	if err != nil {
		return nil, nil, fmt.Errorf("REST config: %w", err)
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("HTTP client: %w", err)
	}
	d, err := discoveryclient.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, nil, fmt.Errorf("discovery client: %w", err)
	}
	m, err := metadata.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, nil, fmt.Errorf("metadata client: %w", err)
	}
	return d, m, nil
}

// destinationResources reads every group, version and resource the destination serves.
func destinationResources(ctx context.Context, d *discoveryclient.DiscoveryClient, cluster string) (servedResources, error) {
	_, lists, err := d.ServerGroupsAndResourcesWithContext(ctx)
	if err := tolerateGroupFailures(ctx, cluster, err); err != nil {
		return servedResources{}, err
	}
	served := servedIn(lists)
	failed, _ := discoveryclient.GroupDiscoveryFailedErrorGroups(err)
	for gv := range failed {
		served.unknownGroups[gv.Group] = true
	}
	return served, nil
}

// tolerateGroupFailures accepts a discovery that failed for some groups only, logging them:
// the groups that were discovered are still checked.
func tolerateGroupFailures(ctx context.Context, cluster string, err error) error {
	if failed, ok := discoveryclient.GroupDiscoveryFailedErrorGroups(err); ok {
		ctrl.LoggerFrom(ctx).Info("Some API groups could not be discovered, checking GVK compatibility without them",
			"migCluster", cluster, "groups", fmt.Sprint(failed))
		return nil
	}
	if err != nil {
		return fmt.Errorf("discover API resources of cluster %s: %w", cluster, err)
	}
	return nil
}

// hasInstances reports whether the namespace holds at least one object of the resource, or
// may hold one (the token may not list it).
func hasInstances(ctx context.Context, c metadata.Interface, gvr schema.GroupVersionResource, namespace string) (bool, error) {
	list, err := c.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{Limit: 1})
	switch {
	case apierrors.IsNotFound(err):
		// The resource went away since discovery.
		return false, nil
	case apierrors.IsForbidden(err):
		// The token may not list it (ferry-remote-source names the kinds Ferry works with,
		// not every kind): it may exist, and the destination could not restore it, so it is
		// reported, as a warning, rather than assumed absent.
		return true, nil
	case err != nil:
		return false, fmt.Errorf("list %s in %s: %w", gvr, namespace, err)
	}
	return len(list.Items) > 0, nil
}

// missingResources returns, sorted, the namespaced and listable resources of the source
// lists (discovery's preferred versions) that the destination does not serve, less the
// excluded ones.
func missingResources(source []*metav1.APIResourceList, served servedResources, excluded []string) []schema.GroupVersionResource {
	var out []schema.GroupVersionResource
	for _, gvr := range candidates(source) {
		if !served.has(gvr.GroupResource()) && !isExcluded(gvr.GroupResource(), excluded) {
			out = append(out, gvr)
		}
	}
	slices.SortFunc(out, func(a, b schema.GroupVersionResource) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Version, b.Version))
	})
	return out
}

// candidates returns the namespaced, listable resources of the lists, without subresources.
func candidates(lists []*metav1.APIResourceList) []schema.GroupVersionResource {
	var out []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range l.APIResources {
			if res.Namespaced && !strings.Contains(res.Name, "/") && slices.Contains(res.Verbs, "list") {
				out = append(out, gv.WithResource(res.Name))
			}
		}
	}
	return out
}

// servedIn returns the namespaced resources of the lists, in any version.
func servedIn(lists []*metav1.APIResourceList) servedResources {
	s := servedResources{resources: map[schema.GroupResource]bool{}, unknownGroups: map[string]bool{}}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range l.APIResources {
			if res.Namespaced && !strings.Contains(res.Name, "/") {
				s.resources[gv.WithResource(res.Name).GroupResource()] = true
			}
		}
	}
	return s
}

// has reports whether the resource, or its cohabiting twin, is served.
func (s servedResources) has(gr schema.GroupResource) bool {
	if s.resources[gr] || s.unknownGroups[gr.Group] {
		return true
	}
	twin, ok := cohabitingTwin(gr)
	return ok && s.resources[twin]
}

// cohabitingTwin returns the same resource in the other group of its cohabiting pair.
func cohabitingTwin(gr schema.GroupResource) (schema.GroupResource, bool) {
	for _, c := range cohabiting {
		if c.resource != gr.Resource {
			continue
		}
		switch gr.Group {
		case c.groups[0]:
			return schema.GroupResource{Group: c.groups[1], Resource: gr.Resource}, true
		case c.groups[1]:
			return schema.GroupResource{Group: c.groups[0], Resource: gr.Resource}, true
		}
	}
	return schema.GroupResource{}, false
}

// isExcluded reports whether an excluded resources entry names the resource: a bare plural
// name matches it in every group (as MTC compares), "resource.group" only in that group.
func isExcluded(gr schema.GroupResource, excluded []string) bool {
	return slices.ContainsFunc(excluded, func(e string) bool {
		return strings.EqualFold(e, gr.Resource) || strings.EqualFold(e, gr.String())
	})
}

// byNamespace turns the resources found per namespace into the status field, sorted by
// namespace and resource. As in MTC, Kind holds the resource name.
func byNamespace(found map[string][]schema.GroupVersionResource) []migv1.IncompatibleNamespace {
	var out []migv1.IncompatibleNamespace
	for ns, gvrs := range found {
		n := migv1.IncompatibleNamespace{Name: ns}
		for _, gvr := range gvrs {
			n.GVKs = append(n.GVKs, migv1.IncompatibleGVK{Group: gvr.Group, Version: gvr.Version, Kind: gvr.Resource})
		}
		slices.SortFunc(n.GVKs, func(a, b migv1.IncompatibleGVK) int {
			return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Version, b.Version))
		})
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b migv1.IncompatibleNamespace) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
