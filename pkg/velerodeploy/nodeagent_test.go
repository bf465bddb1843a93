package velerodeploy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestNodeAgent(t *testing.T) {
	cases := map[string]struct {
		spec                Spec
		kubeletRoot         string
		image, pods, plugin string
	}{
		"the pinned release on a usual node": {spec: Spec{Namespace: "openshift-migration"}, image: DefaultImage,
			pods: "/var/lib/kubelet/pods", plugin: "/var/lib/kubelet/plugins"},
		"another image and kubelet root": {spec: Spec{Namespace: "velero", Image: "r:5000/velero:v1"}, kubeletRoot: "/data/kubelet/",
			image: "r:5000/velero:v1", pods: "/data/kubelet/pods", plugin: "/data/kubelet/plugins"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ds, err := NodeAgent(c.spec, c.kubeletRoot)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Namespace != c.spec.Namespace || ds.Name != NodeAgentName || ds.Labels[ManagedByLabel] != ManagedBy {
				t.Errorf("metadata %s/%s labels %v", ds.Namespace, ds.Name, ds.Labels)
			}
			pod := ds.Spec.Template.Spec
			ctr := pod.Containers[0]
			if ctr.Image != c.image {
				t.Errorf("image %s, want %s", ctr.Image, c.image)
			}
			if got := strings.Join(append(ctr.Command, ctr.Args...), " "); got != "/velero node-agent server" {
				t.Errorf("command %q", got)
			}
			if ctr.SecurityContext == nil || ctr.SecurityContext.Privileged == nil || !*ctr.SecurityContext.Privileged {
				t.Error("the node-agent is not privileged; MTC's restic DaemonSet is, to read volumes of any owner")
			}
			if ds.Spec.Template.Labels["role"] != "node-agent" {
				t.Errorf("pod labels %v: Velero finds its node-agent pods by role=node-agent", ds.Spec.Template.Labels)
			}
			paths := map[string]string{}
			for _, v := range pod.Volumes {
				if v.HostPath != nil {
					paths[v.Name] = v.HostPath.Path
				}
				if v.Secret != nil {
					t.Errorf("mounts Secret %s; credentials are per BackupStorageLocation", v.Secret.SecretName)
				}
			}
			if paths["host-pods"] != c.pods || paths["host-plugins"] != c.plugin {
				t.Errorf("host paths %v, want pods %s and plugins %s", paths, c.pods, c.plugin)
			}
			var mountedAt string
			for _, m := range ctr.VolumeMounts {
				if m.Name == "host-pods" {
					mountedAt = m.MountPath
				}
			}
			if mountedAt != "/host_pods" {
				t.Errorf("host-pods mounted at %q; Velero looks for pod volumes under /host_pods", mountedAt)
			}
			if ctr.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("pull policy %s", ctr.ImagePullPolicy)
			}
		})
	}
}
