package velero

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/velerodeploy"
)

// nodeAgentTimeout bounds how long the node-agent's pod takes to run.
const nodeAgentTimeout = 2 * time.Minute

// NodeCommands maps the commands of Velero's image to the binaries of make velero, for
// node.Options.Commands: the node-agent's /velero and the restore helper that Velero puts
// in front of pods whose volumes a file-system restore fills.
func NodeCommands() (map[string]string, error) {
	bin, _, err := Binaries()
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"/velero":                bin,
		"/velero-restore-helper": filepath.Join(filepath.Dir(bin), "velero-restore-helper"),
	}, nil
}

// StartNodeAgent runs Velero's node-agent DaemonSet in namespace, as pkg/velerodeploy builds
// it, reading pod volumes from kubeletRoot (a process node's RootDir), under the velero
// ServiceAccount bound to cluster-admin as config/velero ships it, and waits until its pods
// run. Its image is the placeholder Deployment's, which nodes run from NodeCommands.
func StartNodeAgent(ctx context.Context, c client.Client, namespace, kubeletRoot string) error {
	ds, err := velerodeploy.NodeAgent(velerodeploy.Spec{Namespace: namespace, Image: placeholderImage}, kubeletRoot)
	if err != nil {
		return err
	}
	objs := []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: velerodeploy.ServiceAccountName, Namespace: namespace}},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "velero-" + namespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: velerodeploy.ServiceAccountName, Namespace: namespace}},
		},
		ds,
	}
	for _, obj := range objs {
		ctx, cancel := context.WithTimeout(ctx, apiTimeout)
		err := c.Create(ctx, obj)
		cancel()
		if client.IgnoreAlreadyExists(err) != nil {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, nodeAgentTimeout, true, func(ctx context.Context) (bool, error) {
		pods := &corev1.PodList{}
		err := c.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels{"role": "node-agent"})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning {
				return false, nil
			}
		}
		return len(pods.Items) > 0, nil
	})
	if err != nil {
		return fmt.Errorf("wait for Velero's node-agent in %s: %w", namespace, err)
	}
	return nil
}
