package tunnel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Names of the objects on each side. ProxiedService is the name seed §11.2 documents
// (proxied-cluster.<namespace>.svc.cluster.local:8443), kept so MigClusters written for crane's
// tunnel work unchanged.
const (
	ProxiedService   = "proxied-cluster"
	TunnelService    = "ferry-tunnel"
	ServerDeployment = "ferry-tunnel-server"
	ClientDeployment = "ferry-tunnel-client"
	// ManagedByLabel marks what `ferry tunnel-api` created, so a re-run updates it and
	// --delete removes only it.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "ferry-tunnel-api"
	componentLabel = "app.kubernetes.io/component"
	nameLabel      = "app.kubernetes.io/name"
	credentialsDir = "/etc/ferry-tunnel"
	// CredentialsAnnotation on an agent's pod is the Hash of the credentials it runs with: a
	// re-run makes new ones, which rolls the agents, and tells its pods from the old ones.
	CredentialsAnnotation = "ferry.konveyor.io/tunnel-credentials"
)

// Spec is what both sides' objects are made from.
type Spec struct {
	Namespace string
	Image     string
	// ServiceType of the tunnel Service on the destination: LoadBalancer (crane's) or NodePort.
	ServiceType corev1.ServiceType
	// SourceRegistry is the registry address the client reaches on the source; empty: none.
	SourceRegistry string
}

func labels(component string) map[string]string {
	return map[string]string{nameLabel: "ferry-tunnel", componentLabel: component, ManagedByLabel: ManagedBy}
}

// namespace is the tunnel's namespace on either side.
func (s Spec) namespace() *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Namespace, Labels: map[string]string{ManagedByLabel: ManagedBy}},
	}
}

func (s Spec) secret(name string, creds Credentials) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: name, Labels: labels(name)},
		Type:       corev1.SecretTypeOpaque,
		Data:       creds.Data(),
	}
}

// DestinationObjects are the server side: the namespace, the server's credentials and
// Deployment, the tunnel Service the client dials, and proxied-cluster.
func (s Spec) DestinationObjects(creds Credentials) []client.Object {
	ports := []corev1.ContainerPort{
		{Name: "tunnel", ContainerPort: TunnelPort},
		{Name: "api", ContainerPort: APIPort},
		{Name: "registry", ContainerPort: RegistryPort},
		{Name: "health", ContainerPort: HealthPort},
	}
	args := []string{AgentCommand, "server"}
	if s.SourceRegistry == "" {
		args = append(args, "--registry-address=")
	}
	d := s.deployment(ServerDeployment, creds, args, ports)
	d.Spec.Template.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("health")}},
		PeriodSeconds: 2,
	}
	tunnelSvc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: TunnelService, Labels: labels(ServerDeployment)},
		Spec: corev1.ServiceSpec{
			Type:     s.ServiceType,
			Selector: labels(ServerDeployment),
			Ports:    []corev1.ServicePort{{Name: "tunnel", Port: TunnelPort, TargetPort: intstr.FromString("tunnel")}},
		},
	}
	proxied := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: ProxiedService, Labels: labels(ServerDeployment)},
		Spec: corev1.ServiceSpec{
			Selector: labels(ServerDeployment),
			Ports: []corev1.ServicePort{
				{Name: "api", Port: APIPort, TargetPort: intstr.FromString("api")},
				{Name: "registry", Port: RegistryPort, TargetPort: intstr.FromString("registry")},
			},
		},
	}
	return []client.Object{s.namespace(), s.secret(ServerDeployment, creds), d, tunnelSvc, proxied}
}

// SourceObjects are the client side: the namespace, the client's credentials and Deployment
// dialling server (host:port).
func (s Spec) SourceObjects(creds Credentials, server string) []client.Object {
	args := []string{AgentCommand, "client", "--server=" + server, "--registry=" + s.SourceRegistry}
	return []client.Object{s.namespace(), s.secret(ClientDeployment, creds), s.deployment(ClientDeployment, creds, args, nil)}
}

// deployment runs one agent: unprivileged (non-root, no capabilities, read-only root, no
// service account token: the agents forward bytes and call no API).
func (s Spec) deployment(name string, creds Credentials, args []string, ports []corev1.ContainerPort) *appsv1.Deployment {
	l := labels(name)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: name, Labels: l},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: l},
			// Recreate: two servers would split clients between them; two clients are harmless
			// (the server keeps the newest) but pointless.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l, Annotations: map[string]string{CredentialsAnnotation: creds.Hash()}},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:  "agent",
						Image: s.Image,
						Args:  args,
						Ports: ports,
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
						},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false),
							ReadOnlyRootFilesystem:   ptr.To(true),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "credentials", MountPath: credentialsDir, ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{{Name: "credentials", VolumeSource: corev1.VolumeSource{
						Secret: &corev1.SecretVolumeSource{SecretName: name},
					}}},
				},
			},
		},
	}
}

// Hash identifies the credentials of one tunnel (both sides share its CA).
func (c Credentials) Hash() string {
	sum := sha256.Sum256(c.CA)
	return hex.EncodeToString(sum[:8])
}

// ProxiedURL is the API URL a MigCluster uses to reach the source through the tunnel.
func ProxiedURL(namespace string) string {
	return fmt.Sprintf("https://%s.%s.svc.cluster.local:%d", ProxiedService, namespace, APIPort)
}

// ProxiedRegistry is the registry path (host:port) of the source through the tunnel.
func ProxiedRegistry(namespace string) string {
	return ProxiedService + "." + namespace + ".svc.cluster.local:" + strconv.Itoa(RegistryPort)
}
