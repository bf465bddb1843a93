package directvolumemigration

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// podSecurityEnforce is the Pod Security admission label of a namespace; only "privileged"
// admits root transfer pods with capabilities.
const podSecurityEnforce = "pod-security.kubernetes.io/enforce"

// nonRootMessage is MTC's warning when root was asked for but a namespace does not allow it.
const nonRootMessage = "missing required labels on namespace to run rsync as root, running as non root"

// identity decides who the transfer pods of namespace ns on remote run as: root when the DVM
// asks for it (runAsRoot) and the namespace's Pod Security level is privileged, else a
// non-root user meeting the restricted level (runAsUser/runAsGroup, else
// transfer.DefaultNonRootID). Asking for root where it is not allowed leaves a durable
// warning naming the namespace, so the user knows owners were not kept.
func (s *Scope) identity(ctx context.Context, remote *Remote, ns string) (transfer.Identity, error) {
	id := transfer.Identity{User: s.DVM.Spec.RunAsUser, Group: s.DVM.Spec.RunAsGroup}
	if s.DVM.Spec.RunAsRoot == nil || !*s.DVM.Spec.RunAsRoot {
		return id, nil
	}
	namespace := &corev1.Namespace{}
	err := remote.Client.Get(ctx, types.NamespacedName{Name: ns}, namespace)
	if err != nil && !apierrors.IsNotFound(err) {
		return id, fmt.Errorf("get namespace %s on cluster %s: %w", ns, remote.Cluster.Name, err)
	}
	if namespace.Labels[podSecurityEnforce] == "privileged" {
		id.Root = true
		return id, nil
	}
	s.nonRootNamespaces = append(s.nonRootNamespaces, remote.Cluster.Name+"/"+ns)
	return id, nil
}

// nonRootWarning is the durable warning of namespaces where root was refused, or nil.
func (s *Scope) nonRootWarning() *migv1.Condition {
	if len(s.nonRootNamespaces) == 0 {
		return nil
	}
	names := slices.Clone(s.nonRootNamespaces)
	slices.Sort(names)
	names = slices.Compact(names)
	c := migv1.Condition{
		Type: migv1.RsyncServerPodsRunningAsNonRoot, Status: migv1.True, Category: migv1.CategoryWarn, Durable: true,
		Message: fmt.Sprintf("%s (label %s=privileged missing on %s): files get the transfer's user, device files are skipped and absolute symlink targets lose their leading slash",
			nonRootMessage, podSecurityEnforce, strings.Join(names, ", ")),
	}
	return &c
}
