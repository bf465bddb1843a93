package tunnel

import (
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestObjects(t *testing.T) {
	server, client, err := NewCredentials(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name               string
		registry           string
		serverArgsRegistry bool
	}{
		{name: "with the source registry", registry: DefaultRegistry},
		{name: "without a registry", registry: "", serverArgsRegistry: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{Namespace: "openvpn", Image: "ferry:1", ServiceType: corev1.ServiceTypeNodePort, SourceRegistry: tc.registry}
			dest := spec.DestinationObjects(server)
			src := spec.SourceObjects(client, "10.0.0.1:30000")
			var proxied *corev1.Service
			var deployments []*appsv1.Deployment
			for _, o := range append(dest, src...) {
				if o.GetNamespace() != "openvpn" && o.GetName() != "openvpn" {
					t.Errorf("%s outside the tunnel's namespace", o.GetName())
				}
				switch o := o.(type) {
				case *corev1.Service:
					if o.Name == ProxiedService {
						proxied = o
					}
				case *appsv1.Deployment:
					deployments = append(deployments, o)
				}
			}
			if proxied == nil || len(proxied.Spec.Ports) != 2 || proxied.Spec.Ports[0].Port != 8443 || proxied.Spec.Ports[1].Port != 5000 {
				t.Fatalf("proxied-cluster serves 8443 and 5000: %+v", proxied)
			}
			if len(deployments) != 2 {
				t.Fatalf("%d Deployments, want a server and a client", len(deployments))
			}
			for _, d := range deployments {
				pod := d.Spec.Template.Spec
				c := pod.Containers[0]
				if len(c.Command) != 0 || c.Args[0] != AgentCommand {
					t.Errorf("%s runs the image's entrypoint with %v", d.Name, c.Args)
				}
				if !*pod.SecurityContext.RunAsNonRoot || *c.SecurityContext.AllowPrivilegeEscalation || *pod.AutomountServiceAccountToken {
					t.Errorf("%s is not unprivileged", d.Name)
				}
				if d.Name == ServerDeployment && slices.Contains(c.Args, "--registry-address=") != tc.serverArgsRegistry {
					t.Errorf("server args %v", c.Args)
				}
				if got := d.Spec.Template.Annotations[CredentialsAnnotation]; got != server.Hash() || got != client.Hash() {
					t.Errorf("%s pods carry credentials %q, want the tunnel's %q", d.Name, got, server.Hash())
				}
				if d.Name == ClientDeployment && !slices.Contains(c.Args, "--server=10.0.0.1:30000") {
					t.Errorf("client args %v", c.Args)
				}
			}
		})
	}
	if got := ProxiedURL("openvpn"); got != "https://proxied-cluster.openvpn.svc.cluster.local:8443" {
		t.Errorf("ProxiedURL = %s (seed §11.2's form)", got)
	}
}
