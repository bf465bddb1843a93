package directvolumemigration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

var routeListGVK = transfer.RouteGVK.GroupVersion().WithKind("RouteList")

// serviceType is how the rsync servers are exposed (rsync_endpoint_type): a ClusterIP
// Service behind a passthrough Route when the setting is Route (MTC's default) and the
// destination has the Route API, else a NodePort Service (Route on a cluster without Routes),
// or what the setting names.
func serviceType(ctx context.Context, s *Scope) (corev1.ServiceType, bool, error) {
	switch s.Settings.RsyncEndpointType {
	case migv1.RsyncEndpointClusterIP:
		return corev1.ServiceTypeClusterIP, false, nil
	case migv1.RsyncEndpointNodePort:
		return corev1.ServiceTypeNodePort, false, nil
	}
	routes := &unstructured.UnstructuredList{}
	routes.SetGroupVersionKind(routeListGVK)
	err := s.Destination.Client.List(ctx, routes, client.Limit(1))
	switch {
	case err == nil:
		return corev1.ServiceTypeClusterIP, true, nil
	case apimeta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		return corev1.ServiceTypeNodePort, false, nil
	}
	return "", false, fmt.Errorf("look for the Route API on the destination cluster: %w", err)
}

// createEndpoints creates the Service of each destination namespace's rsync server (MTC's
// CreateRsyncRoute).
func createEndpoints(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	kind, route, err := serviceType(ctx, s)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	for _, ns := range s.destinationNamespaces() {
		srv := s.server(ns)
		svc := srv.Service(kind)
		if err := s.Destination.Client.Create(ctx, svc); err != nil && !apierrors.IsAlreadyExists(err) {
			return itinerary.Outcome{}, fmt.Errorf("create Service %s/%s: %w", ns, svc.Name, err)
		}
		if !route {
			continue
		}
		// The Route is owned by the Service (garbage-collected with it), so it needs its UID.
		if err := s.Destination.Client.Get(ctx, client.ObjectKeyFromObject(svc), svc); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("get Service %s/%s: %w", ns, svc.Name, err)
		}
		host := ""
		if s.Settings.ClusterSubdomain != "" {
			host = transfer.RouteHost(srv.Name, ns, s.Settings.ClusterSubdomain)
		}
		if err := s.Destination.Client.Create(ctx, srv.Route(svc, host)); err != nil && !apierrors.IsAlreadyExists(err) {
			return itinerary.Outcome{}, fmt.Errorf("create Route %s/%s: %w", ns, srv.Name, err)
		}
	}
	return itinerary.Done(), nil
}

// ensureEndpointsReady waits until every rsync endpoint has an address (MTC's
// EnsureRsyncRouteAdmitted).
func ensureEndpointsReady(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	for _, ns := range s.destinationNamespaces() {
		ep, err := endpoint(ctx, s, ns)
		if err != nil {
			return itinerary.Outcome{}, err
		}
		if ep == nil {
			return itinerary.Poll(pollPods), nil
		}
	}
	return itinerary.Done(), nil
}

// endpoint returns where clients reach the server of the destination namespace: a node
// address and the node port, or the cluster IP; nil while it has none.
func endpoint(ctx context.Context, s *Scope, ns string) (*transfer.Endpoint, error) {
	svc := &corev1.Service{}
	if err := s.Destination.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: s.Names.Server()}, svc); err != nil {
		return nil, fmt.Errorf("get rsync Service in %s: %w", ns, err)
	}
	if len(svc.Spec.Ports) == 0 {
		return nil, fmt.Errorf("rsync Service %s/%s has no port", ns, svc.Name)
	}
	if svc.Spec.Type != corev1.ServiceTypeNodePort {
		if ep, routed, err := routeEndpoint(ctx, s, ns); routed || err != nil {
			return ep, err
		}
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			return nil, nil
		}
		return &transfer.Endpoint{DestinationNamespace: ns, Host: svc.Spec.ClusterIP, Port: int(svc.Spec.Ports[0].Port)}, nil
	}
	port := int(svc.Spec.Ports[0].NodePort)
	if port == 0 {
		return nil, nil
	}
	hosts, err := nodeAddresses(ctx, s.Destination.Client, nodePortTargets)
	if err != nil || len(hosts) == 0 {
		return nil, err
	}
	return &transfer.Endpoint{DestinationNamespace: ns, Host: hosts[0], Port: port, Fallbacks: hosts[1:]}, nil
}

// nodePortTargets is how many nodes a NodePort endpoint lists: the clients' stunnel tries
// them in order, so the loss of one node does not fail every remaining attempt.
const nodePortTargets = 3

// routeAdmissionWarning is how long a Route may wait for a router before a warning.
const routeAdmissionWarning = 3 * time.Minute

// routeEndpoint returns the endpoint of the namespace's rsync Route (its admitted host, port
// 443, the host as SNI) when there is a Route; routed is false when there is none (a
// ClusterIP endpoint). A Route no router admitted within routeAdmissionWarning leaves MTC's
// RsyncRouteNotAdmitted warning while the phase keeps waiting (up to its timeout).
func routeEndpoint(ctx context.Context, s *Scope, ns string) (ep *transfer.Endpoint, routed bool, err error) {
	route := &unstructured.Unstructured{}
	route.SetGroupVersionKind(transfer.RouteGVK)
	err = s.Destination.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: s.Names.Server()}, route)
	switch {
	case apimeta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		return nil, false, nil
	case err != nil:
		return nil, true, fmt.Errorf("get rsync Route in %s: %w", ns, err)
	}
	host := transfer.AdmittedHost(route)
	if host == "" {
		if s.Now().Sub(route.GetCreationTimestamp().Time) > routeAdmissionWarning {
			s.warn(migv1.RsyncRouteNotAdmitted, "", fmt.Sprintf("Rsync Route %s/%s is not admitted by a router yet", ns, route.GetName()))
		}
		return nil, true, nil
	}
	return &transfer.Endpoint{DestinationNamespace: ns, Host: host, Port: transfer.RoutePort, SNI: host}, true, nil
}

// nodeAddresses returns the addresses of up to limit Ready, schedulable nodes of the
// destination cluster, the same ones in the same order on every call (by node name): each
// node's InternalIP, else its ExternalIP.
func nodeAddresses(ctx context.Context, c client.Client, limit int) ([]string, error) {
	nodes := &corev1.NodeList{}
	if err := c.List(ctx, nodes); err != nil {
		return nil, fmt.Errorf("list nodes of the destination cluster: %w", err)
	}
	slices.SortFunc(nodes.Items, func(a, b corev1.Node) int { return strings.Compare(a.Name, b.Name) })
	var out []string
	for _, n := range nodes.Items {
		if len(out) == limit {
			break
		}
		if !nodeReady(&n) || n.Spec.Unschedulable {
			continue
		}
		if addr := nodeAddress(&n); addr != "" {
			out = append(out, addr)
		}
	}
	return out, nil
}

// nodeAddress returns the node's InternalIP, else its ExternalIP, else "".
func nodeAddress(n *corev1.Node) string {
	for _, want := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
		for _, a := range n.Status.Addresses {
			if a.Type == want && a.Address != "" {
				return a.Address
			}
		}
	}
	return ""
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
