package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/scheme"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/tunnel"
)

// defaultTunnelNamespace is crane's default, kept so seed §11.2's commands work unchanged.
const defaultTunnelNamespace = "openvpn"

// tunnelValidity is how long the tunnel's certificates are valid; running tunnel-api again
// makes new ones and rolls both agents.
const tunnelValidity = 365 * 24 * time.Hour

type tunnelOptions struct {
	sourceContext, destinationContext string
	serviceType, serverAddress, image string
	operatorNamespace, sourceRegistry string
	wait                              time.Duration
	delete                            bool
}

func newTunnelCommand(o *Options) *cobra.Command {
	var t tunnelOptions
	cmd := &cobra.Command{
		Use:   "tunnel-api --source-context SOURCE --destination-context DESTINATION [--namespace openvpn]",
		Short: "Reach a source cluster behind a firewall: serve its API on the destination (crane tunnel-api)",
		Long: `Connect a source cluster that cannot be reached from the destination (on premises, behind a
firewall) to the destination cluster where Ferry runs, as "crane tunnel-api" does (MTC's
documentation, "Migrating an application from on-premise to a cloud-based cluster").

An agent on the source dials out to an agent on the destination, exposed by a LoadBalancer
(or NodePort) Service; the destination's Service proxied-cluster.<namespace>.svc then serves
the source's API server on port 8443 and its image registry on port 5000. Register the source
with the URL this command prints.

Unlike crane's OpenVPN tunnel, the agents are unprivileged (non-root, no capabilities, no
tun device, no service account token), forward to exactly the source's API server and
registry (nothing else of its network), and authenticate each other with a CA made for this
tunnel only (mutual TLS 1.3), made in milliseconds. They run from the operator's own image.
The source's namespace (--namespace, default openvpn) must not exist beforehand on either
cluster, or have been made by an earlier run, which this one updates.`,
		Example: `  ferry tunnel-api --source-context onprem --destination-context cloud
  ferry tunnel-api --namespace my-tunnel --source-context onprem --destination-context cloud --service-type NodePort
  ferry tunnel-api --delete --source-context onprem --destination-context cloud`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.tunnelAPI(cmd.Context(), t) },
	}
	f := cmd.Flags()
	f.StringVar(&t.sourceContext, "source-context", "", "kubeconfig context of the source cluster (required)")
	f.StringVar(&t.destinationContext, "destination-context", "", "kubeconfig context of the destination cluster (default: the current context)")
	f.StringVar(&t.serviceType, "service-type", string(corev1.ServiceTypeLoadBalancer), "how the destination exposes the tunnel: LoadBalancer or NodePort")
	f.StringVar(&t.serverAddress, "server-address", "", "host:port the source dials (default: the LoadBalancer's address, or a node's address and the NodePort)")
	f.StringVar(&t.image, "image", "", "image of the agents (default: the image of the Ferry operator on the destination)")
	f.StringVar(&t.operatorNamespace, "operator-namespace", settings.DefaultVeleroNamespace, "namespace of the Ferry operator on the destination (to find its image)")
	f.StringVar(&t.sourceRegistry, "source-registry", tunnel.DefaultRegistry, "the source's image registry as the source's pods reach it (empty: do not serve it)")
	f.DurationVar(&t.wait, "wait", 5*time.Minute, "how long to wait for the tunnel to connect")
	f.BoolVar(&t.delete, "delete", false, "remove the tunnel (its namespace) from both clusters")
	_ = cmd.MarkFlagRequired("source-context")
	return cmd
}

// tunnelSide is one cluster's clients.
type tunnelSide struct {
	name      string
	client    client.Client
	clientset kubernetes.Interface
}

// side connects to the kubeconfig's context (the current one when empty), honouring
// --kubeconfig.
func (o *Options) side(name, context string) (*tunnelSide, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kube.KubeConfig != nil && *o.Kube.KubeConfig != "" {
		rules.ExplicitPath = *o.Kube.KubeConfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("the %s cluster's context %q: %w", name, context, err)
	}
	cfg.Timeout = remoteTimeout
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, fmt.Errorf("connect to the %s cluster: %w", name, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the %s cluster: %w", name, err)
	}
	return &tunnelSide{name: name, client: c, clientset: cs}, nil
}

func (o *Options) tunnelNamespace() string {
	if o.Kube.Namespace != nil && *o.Kube.Namespace != "" {
		return *o.Kube.Namespace
	}
	return defaultTunnelNamespace
}

func (o *Options) tunnelAPI(ctx context.Context, t tunnelOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ns := o.tunnelNamespace()
	source, err := o.side("source", t.sourceContext)
	if err != nil {
		return err
	}
	dest, err := o.side("destination", t.destinationContext)
	if err != nil {
		return err
	}
	for _, s := range []*tunnelSide{source, dest} {
		if err := s.ownsNamespace(ctx, ns); err != nil {
			return err
		}
	}
	if t.delete {
		for _, s := range []*tunnelSide{dest, source} {
			err := s.client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			switch {
			case apierrors.IsNotFound(err):
				_, _ = fmt.Fprintf(o.Out, "No namespace %s on the %s cluster.\n", ns, s.name)
			case err != nil:
				return fmt.Errorf("delete namespace %s on the %s cluster: %w", ns, s.name, err)
			default:
				_, _ = fmt.Fprintf(o.Out, "Namespace %s deleted on the %s cluster.\n", ns, s.name)
			}
		}
		return nil
	}
	spec := tunnel.Spec{Namespace: ns, Image: t.image, ServiceType: corev1.ServiceType(t.serviceType), SourceRegistry: t.sourceRegistry}
	if spec.ServiceType != corev1.ServiceTypeLoadBalancer && spec.ServiceType != corev1.ServiceTypeNodePort {
		return fmt.Errorf("--service-type %q: LoadBalancer or NodePort", t.serviceType)
	}
	if spec.Image == "" {
		if spec.Image, err = operatorImage(ctx, dest.client, t.operatorNamespace); err != nil {
			return err
		}
	}
	serverCreds, clientCreds, err := tunnel.NewCredentials(time.Now(), tunnelValidity)
	if err != nil {
		return err
	}
	if err := dest.apply(ctx, spec.DestinationObjects(serverCreds)); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(o.Out, "Tunnel server deployed in namespace %s of the destination cluster.\n", ns)
	waitCtx, cancel := context.WithTimeout(ctx, t.wait)
	defer cancel()
	server := t.serverAddress
	if server == "" {
		if server, err = dest.tunnelAddress(waitCtx, ns, o.Out); err != nil {
			return err
		}
	}
	if err := source.apply(ctx, spec.SourceObjects(clientCreds, server)); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(o.Out, "Tunnel client deployed in namespace %s of the source cluster, dialling %s.\n", ns, server)
	if err := waitConnected(waitCtx, dest, source, ns, serverCreds.Hash()); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(o.Out, `Tunnel connected. On the destination, %[1]s.%[2]s.svc serves the source cluster's API server and registry.
Register the source cluster with:
  API URL:               %[3]s
  exposed registry path: %[4]s
  ferry cluster add SOURCE --url %[3]s --insecure --token-file TOKEN --exposed-registry-path %[4]s
The source API server's certificate does not name %[1]s, so the MigCluster skips its verification
(insecure: true, as with crane's tunnel); the tunnel itself is mutually authenticated.
Remove it with: ferry tunnel-api --delete --namespace %[2]s --source-context ... --destination-context ...
`, tunnel.ProxiedService, ns, tunnel.ProxiedURL(ns), tunnel.ProxiedRegistry(ns))
	return nil
}

// ownsNamespace refuses a namespace that exists and was not made by tunnel-api: the tunnel
// must not take over (or, with --delete, remove) someone's namespace.
func (s *tunnelSide) ownsNamespace(ctx context.Context, ns string) error {
	var existing corev1.Namespace
	err := s.client.Get(ctx, client.ObjectKey{Name: ns}, &existing)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("read namespace %s on the %s cluster: %w", ns, s.name, err)
	case existing.Labels[tunnel.ManagedByLabel] != tunnel.ManagedBy:
		return fmt.Errorf("namespace %s exists on the %s cluster and was not made by ferry tunnel-api; choose another --namespace", ns, s.name)
	}
	return nil
}

// apply creates or updates objs with server-side apply, so that a re-run converges.
func (s *tunnelSide) apply(ctx context.Context, objs []client.Object) error {
	for _, obj := range objs {
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", kind, obj.GetName(), err)
		}
		cfg := client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: u})
		if err := s.client.Apply(ctx, cfg, client.FieldOwner(tunnel.ManagedBy), client.ForceOwnership); err != nil {
			return fmt.Errorf("apply %s %s on the %s cluster: %w", kind, obj.GetName(), s.name, err)
		}
	}
	return nil
}

// operatorImage is the image of the Ferry operator's manager container on the destination.
func operatorImage(ctx context.Context, c client.Client, namespace string) (string, error) {
	var list appsv1.DeploymentList
	if err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{"app.kubernetes.io/name": "ferry"}); err != nil {
		return "", fmt.Errorf("find the Ferry operator in %s on the destination (or pass --image): %w", namespace, err)
	}
	for _, d := range list.Items {
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Name == "manager" {
				return c.Image, nil
			}
		}
	}
	return "", fmt.Errorf("no Ferry operator Deployment in namespace %s of the destination: pass --image or --operator-namespace", namespace)
}

// tunnelAddress is where the source dials: the LoadBalancer's ingress, or a node address and
// the NodePort.
func (s *tunnelSide) tunnelAddress(ctx context.Context, ns string, out io.Writer) (string, error) {
	said := false
	for {
		var svc corev1.Service
		if err := s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tunnel.TunnelService}, &svc); err != nil {
			return "", fmt.Errorf("read Service %s/%s on the destination: %w", ns, tunnel.TunnelService, err)
		}
		if addr, err := s.serviceAddress(ctx, &svc); err != nil || addr != "" {
			return addr, err
		}
		if !said {
			_, _ = fmt.Fprintf(out, "Waiting for the LoadBalancer address of Service %s/%s...\n", ns, tunnel.TunnelService)
			said = true
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("service %s/%s has no LoadBalancer address yet: %w (use --service-type NodePort or --server-address)", ns, tunnel.TunnelService, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

func (s *tunnelSide) serviceAddress(ctx context.Context, svc *corev1.Service) (string, error) {
	if svc.Spec.Type == corev1.ServiceTypeNodePort {
		var nodes corev1.NodeList
		if err := s.client.List(ctx, &nodes); err != nil {
			return "", fmt.Errorf("list the destination's nodes: %w", err)
		}
		port := svc.Spec.Ports[0].NodePort
		for _, kind := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
			for _, n := range nodes.Items {
				for _, a := range n.Status.Addresses {
					if a.Type == kind {
						return fmt.Sprintf("%s:%d", a.Address, port), nil
					}
				}
			}
		}
		return "", errors.New("no destination node has an address: pass --server-address")
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		host := in.IP
		if host == "" {
			host = in.Hostname
		}
		if host != "" {
			return fmt.Sprintf("%s:%d", host, tunnel.TunnelPort), nil
		}
	}
	return "", nil
}

// waitConnected waits until the server agent logs a connected client (its readiness says so
// too, but only where readiness probes run); on timeout it shows the client's last log lines,
// which say why (the server unreachable, a certificate refused).
func waitConnected(ctx context.Context, dest, source *tunnelSide, ns, credentials string) error {
	for {
		if logs := agentLogs(ctx, dest, ns, tunnel.ServerDeployment, credentials); strings.Contains(logs, "Tunnel client connected") {
			return nil
		}
		select {
		case <-ctx.Done():
			tail := agentLogs(context.Background(), source, ns, tunnel.ClientDeployment, credentials)
			return fmt.Errorf("the tunnel did not connect: %w\nthe client agent's log on the source:\n%s", ctx.Err(), tail)
		case <-time.After(time.Second):
		}
	}
}

// agentLogs are the last lines of the running agent pods of deployment that run with the
// credentials of this run (an earlier run's pod may still be running), empty when none.
func agentLogs(ctx context.Context, s *tunnelSide, ns, deployment, credentials string) string {
	pods, err := s.clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=" + deployment})
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil || p.Annotations[tunnel.CredentialsAnnotation] != credentials {
			continue
		}
		raw, err := s.clientset.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{TailLines: ptr.To[int64](20)}).DoRaw(ctx)
		if err == nil {
			b.Write(raw)
		}
	}
	return b.String()
}
