package velerodeploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestDeployment(t *testing.T) {
	cases := map[string]struct {
		spec                 Spec
		image, plugin        string
		imagePull, pluginPul corev1.PullPolicy
	}{
		"the pinned release": {spec: Spec{Namespace: "openshift-migration"}, image: DefaultImage, plugin: DefaultAWSPluginImage,
			imagePull: corev1.PullIfNotPresent, pluginPul: corev1.PullIfNotPresent},
		"images of the MigrationController, latest pulled always": {
			spec:  Spec{Namespace: "velero", Image: "registry.local:5000/velero/velero:latest", AWSPluginImage: "registry.local:5000/plugin"},
			image: "registry.local:5000/velero/velero:latest", plugin: "registry.local:5000/plugin",
			imagePull: corev1.PullAlways, pluginPul: corev1.PullAlways},
		"a digest is pulled when not present": {
			spec:  Spec{Namespace: "velero", Image: "r:5000/velero@sha256:" + strings.Repeat("a", 64)},
			image: "r:5000/velero@sha256:" + strings.Repeat("a", 64), plugin: DefaultAWSPluginImage,
			imagePull: corev1.PullIfNotPresent, pluginPul: corev1.PullIfNotPresent},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := Deployment(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			if d.Namespace != c.spec.Namespace || d.Name != Name || d.Labels[ManagedByLabel] != ManagedBy {
				t.Errorf("metadata %s/%s labels %v", d.Namespace, d.Name, d.Labels)
			}
			pod := d.Spec.Template.Spec
			if got := pod.Containers[0]; got.Image != c.image || got.ImagePullPolicy != c.imagePull {
				t.Errorf("server image %s (%s), want %s (%s)", got.Image, got.ImagePullPolicy, c.image, c.imagePull)
			}
			if got := pod.InitContainers[0]; got.Image != c.plugin || got.ImagePullPolicy != c.pluginPul {
				t.Errorf("plugin image %s (%s), want %s (%s)", got.Image, got.ImagePullPolicy, c.plugin, c.pluginPul)
			}
			if pod.ServiceAccountName != ServiceAccountName {
				t.Errorf("ServiceAccount %q", pod.ServiceAccountName)
			}
			if args := strings.Join(pod.Containers[0].Args, " "); !strings.Contains(args, "server") || !strings.Contains(args, "--uploader-type=kopia") {
				t.Errorf("args %q", args)
			}
			for _, v := range pod.Volumes {
				if v.Secret != nil {
					t.Errorf("the server mounts Secret %s; credentials are per BackupStorageLocation", v.Secret.SecretName)
				}
			}
		})
	}
}

// TestPinsMatchTheLocalBuild checks that the release the operator deploys is the one make velero
// builds for the local clusters, so that the e2e tests run what users get.
func TestPinsMatchTheLocalBuild(t *testing.T) {
	for image, gomod := range map[string]string{
		DefaultImage:          "../../hack/tools/velero/server/go.mod",
		DefaultAWSPluginImage: "../../hack/tools/velero/plugin-for-aws/go.mod",
	} {
		b, err := os.ReadFile(filepath.Clean(gomod))
		if err != nil {
			t.Fatal(err)
		}
		module := map[string]string{DefaultImage: "github.com/vmware-tanzu/velero", DefaultAWSPluginImage: "github.com/vmware-tanzu/velero-plugin-for-aws"}[image]
		m := regexp.MustCompile(regexp.QuoteMeta(module) + ` (v[0-9.]+)`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s does not require %s", gomod, module)
		}
		if !strings.HasSuffix(image, ":"+string(m[1])) {
			t.Errorf("%s is not the version %s builds (%s)", image, gomod, m[1])
		}
	}
}
