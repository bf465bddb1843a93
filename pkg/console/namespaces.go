package console

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
)

// hiddenNamespaces are never offered: the cluster's own and the migration namespace.
func (s *Server) hidden(ns string) bool {
	return ns == s.namespace || ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease" ||
		ns == SecretNamespace
}

// sourceNamespaces lists the namespaces of the source cluster that the user may see (see the
// package documentation), or says why there is no list.
func (s *Server) sourceNamespaces(ctx context.Context, c client.Client, clusterName string) ([]string, string) {
	cluster := &migv1.MigCluster{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: s.namespace, Name: clusterName}, cluster); err != nil {
		return nil, fmt.Sprintf("Cannot read MigCluster %s: %v", clusterName, err)
	}
	if cluster.Spec.IsHostCluster {
		names, err := listNamespaces(ctx, c)
		if apierrors.IsForbidden(err) {
			return nil, "You may not list the namespaces of this cluster: type the namespaces to migrate below."
		}
		if err != nil {
			return nil, fmt.Sprintf("Cannot list the namespaces of %s: %v", clusterName, err)
		}
		return s.shown(names), ""
	}
	// A remote cluster: the user's token means nothing there. The MigCluster's token, read
	// as the user (only those RBAC lets read it get a list), lists the candidates; each is
	// shown only if the user may get that namespace on the host.
	access, err := clustercache.AccessFor(ctx, c, cluster)
	if apierrors.IsForbidden(err) {
		return nil, "You may not read this cluster's token Secret, so the console cannot list its namespaces for you: type them below."
	}
	if err != nil {
		return nil, fmt.Sprintf("Cannot reach %s: %v", clusterName, err)
	}
	remote, err := s.clientFor(clustercache.RESTConfigFor(access))
	if err != nil {
		return nil, err.Error()
	}
	names, err := listNamespaces(ctx, remote)
	if err != nil {
		return nil, fmt.Sprintf("Cannot list the namespaces of %s: %v", clusterName, err)
	}
	visible, err := filterAllowed(ctx, s.shown(names), func(ctx context.Context, ns string) (bool, error) {
		return s.mayGetNamespace(ctx, c, ns)
	})
	if err != nil {
		return nil, fmt.Sprintf("Cannot check your access to the namespaces: %v", err)
	}
	return visible, "Namespaces of " + clusterName + " that you may see on this cluster."
}

func listNamespaces(ctx context.Context, c client.Client) ([]string, error) {
	list := &corev1.NamespaceList{}
	if err := c.List(ctx, list); err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	names := make([]string, 0, len(list.Items))
	for _, ns := range list.Items {
		names = append(names, ns.Name)
	}
	sort.Strings(names)
	return names, nil
}

func (s *Server) shown(names []string) []string {
	out := names[:0:0]
	for _, n := range names {
		if !s.hidden(n) && !strings.HasPrefix(n, "openshift-") {
			out = append(out, n)
		}
	}
	return out
}

// mayGetNamespace asks the host's API server, as the user, whether they may get namespace ns.
// The namespace is set as well as the name: the API server authorizes `get namespaces/NS`
// within NS, so that a RoleBinding there (view, edit, admin) lets its subjects see it.
func (s *Server) mayGetNamespace(ctx context.Context, c client.Client, ns string) (bool, error) {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "namespaces", Name: ns},
	}}
	if err := c.Create(ctx, review); err != nil {
		return false, fmt.Errorf("SelfSubjectAccessReview for namespace %s: %w", ns, err)
	}
	return review.Status.Allowed, nil
}

// filterAllowed keeps the names allowed says yes to, in order, asking a few at a time.
func filterAllowed(ctx context.Context, names []string, allowed func(context.Context, string) (bool, error)) ([]string, error) {
	ok := make([]bool, len(names))
	errs := make([]error, len(names))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok[i], errs[i] = allowed(ctx, n)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []string
	for i, n := range names {
		if ok[i] {
			out = append(out, n)
		}
	}
	return out, nil
}
