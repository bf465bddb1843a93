package velerodeploy

import (
	_ "embed"
	"fmt"
	"path"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// NodeAgentName is the name of Velero's node-agent DaemonSet (and container), which Velero's
// server looks up before it runs file-system backups.
const NodeAgentName = "node-agent"

// DefaultKubeletRootDir is the kubelet's root directory on most clusters (`velero install
// --kubelet-root-dir`'s default).
const DefaultKubeletRootDir = "/var/lib/kubelet"

//go:embed node-agent.yaml
var nodeAgentTemplate []byte

// NodeAgent returns Velero's node-agent DaemonSet for spec: the server image, and the
// kubelet root directory whose pods/ and plugins/ it reads pod volumes from.
func NodeAgent(spec Spec, kubeletRootDir string) (*appsv1.DaemonSet, error) {
	ds := &appsv1.DaemonSet{}
	if err := yaml.UnmarshalStrict(trimHeader(nodeAgentTemplate), ds); err != nil {
		return nil, fmt.Errorf("decode the Velero node-agent template: %w", err)
	}
	ds.Namespace = spec.Namespace
	if ds.Labels == nil {
		ds.Labels = map[string]string{}
	}
	ds.Labels[ManagedByLabel] = ManagedBy
	pod := &ds.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		return nil, fmt.Errorf("the Velero node-agent template has %d containers, want 1", len(pod.Containers))
	}
	setImage(&pod.Containers[0], orDefault(spec.Image, DefaultImage))
	root := orDefault(kubeletRootDir, DefaultKubeletRootDir)
	found := 0
	for i := range pod.Volumes {
		v := &pod.Volumes[i]
		switch {
		case v.HostPath == nil:
		case v.Name == "host-pods":
			v.HostPath.Path, found = path.Join(root, "pods"), found+1
		case v.Name == "host-plugins":
			v.HostPath.Path, found = path.Join(root, "plugins"), found+1
		}
	}
	if found != 2 {
		return nil, fmt.Errorf("the Velero node-agent template has %d of its host-pods and host-plugins volumes, want 2", found)
	}
	return ds, nil
}
