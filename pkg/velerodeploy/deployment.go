package velerodeploy

import (
	_ "embed"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The pinned release: what the template names and make velero builds for the local clusters.
const (
	// DefaultImage is the Velero server image when velero_image_fqin is empty.
	DefaultImage = "docker.io/velero/velero:v1.18.3"
	// DefaultAWSPluginImage is the AWS object-store plugin image when velero_aws_plugin_fqin is empty.
	DefaultAWSPluginImage = "docker.io/velero/velero-plugin-for-aws:v1.14.3"
	// Name is the name of Velero's Deployment (and container), as `velero install` names it.
	Name = "velero"
	// ServiceAccountName is the ServiceAccount config/velero creates and binds.
	ServiceAccountName = "velero"
	// ManagedByLabel marks the Deployment as the operator's, so that it is never mistaken for a
	// Velero installed by other means (which migration_velero: false leaves alone).
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedBy is ManagedByLabel's value.
	ManagedBy = "ferry"
	// FieldOwner is the field manager of the operator's server-side applies.
	FieldOwner = "ferry-velero"
)

//go:embed deployment.yaml
var template []byte

// Spec is what varies between installs.
type Spec struct {
	// Namespace is Velero's namespace (velero_namespace).
	Namespace string
	// Image is the server image; DefaultImage when empty.
	Image string
	// AWSPluginImage is the AWS plugin image; DefaultAWSPluginImage when empty.
	AWSPluginImage string
}

// Deployment returns Velero's Deployment for spec.
func Deployment(spec Spec) (*appsv1.Deployment, error) {
	d := &appsv1.Deployment{}
	if err := yaml.UnmarshalStrict(trimHeader(template), d); err != nil {
		return nil, fmt.Errorf("decode the Velero Deployment template: %w", err)
	}
	image, plugin := orDefault(spec.Image, DefaultImage), orDefault(spec.AWSPluginImage, DefaultAWSPluginImage)
	d.Namespace = spec.Namespace
	if d.Labels == nil {
		d.Labels = map[string]string{}
	}
	d.Labels[ManagedByLabel] = ManagedBy
	pod := &d.Spec.Template.Spec
	if len(pod.Containers) != 1 || len(pod.InitContainers) != 1 {
		return nil, fmt.Errorf("the Velero Deployment template has %d containers and %d init containers, want 1 and 1",
			len(pod.Containers), len(pod.InitContainers))
	}
	setImage(&pod.Containers[0], image)
	setImage(&pod.InitContainers[0], plugin)
	return d, nil
}

// setImage sets c's image with the pull policy `velero install` gives it: Always for an
// untagged or :latest image, else IfNotPresent. A digest reference is pulled if not present.
func setImage(c *corev1.Container, image string) {
	c.Image = image
	c.ImagePullPolicy = corev1.PullIfNotPresent
	if strings.Contains(image, "@") {
		return
	}
	name := image[strings.LastIndex(image, "/")+1:]
	if _, tag, tagged := strings.Cut(name, ":"); !tagged || tag == "latest" {
		c.ImagePullPolicy = corev1.PullAlways
	}
}

// trimHeader drops the generator's comment and the first document marker.
func trimHeader(b []byte) []byte {
	s := string(b)
	if i := strings.Index(s, "---\n"); i >= 0 {
		s = s[i+len("---\n"):]
	}
	return []byte(s)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
