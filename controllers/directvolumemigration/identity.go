package directvolumemigration

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// podSecurityEnforce is the Pod Security admission label of a namespace; only "privileged"
// admits root transfer pods with capabilities.
const podSecurityEnforce = "pod-security.kubernetes.io/enforce"

// nonRootMessage is MTC's warning when root was asked for but a namespace does not allow it.
const nonRootMessage = "missing required labels on namespace to run rsync as root, running as non root"

// nonRootLosses is what a copy by a non-root user does not keep.
const nonRootLosses = "file owners and groups are not kept (every file belongs to the transfer's user), device files are skipped, " +
	"and absolute symlink targets lose their leading slash (the daemon cannot chroot)"

// identity decides who the transfer pods of namespace ns on remote run as: root when the DVM
// asks for it (runAsRoot) and the namespace's Pod Security level is privileged, else a
// non-root user meeting the restricted level: runAsUser/runAsGroup, else the first user and
// group of the namespace's OpenShift ranges (transfer.NamespaceIDs: OpenShift refuses pods
// outside them), else transfer.DefaultNonRootID. Every non-root transfer leaves a durable
// warning saying what the copy does not keep (nonRootWarning): asking for root where it is
// not allowed names the namespace (MTC's warning), and not asking for it says how to.
func (s *Scope) identity(ctx context.Context, remote *Remote, ns string) (transfer.Identity, error) {
	namespace := &corev1.Namespace{}
	err := remote.Client.Get(ctx, types.NamespacedName{Name: ns}, namespace)
	if err != nil && !apierrors.IsNotFound(err) {
		return transfer.Identity{}, fmt.Errorf("get namespace %s on cluster %s: %w", ns, remote.Cluster.Name, err)
	}
	user, group, err := transfer.NamespaceIDs(namespace.Annotations)
	if err != nil {
		return transfer.Identity{}, fmt.Errorf("namespace %s on cluster %s: %w", ns, remote.Cluster.Name, err)
	}
	id := transfer.Identity{User: s.DVM.Spec.RunAsUser, Group: s.DVM.Spec.RunAsGroup}
	if id.User == nil {
		id.User = user
	}
	if id.Group == nil {
		id.Group = group
	}
	if s.DVM.Spec.RunAsRoot == nil || !*s.DVM.Spec.RunAsRoot {
		s.nonRootUser = ptr.To(ptr.Deref(id.User, transfer.DefaultNonRootID))
		return id, nil
	}
	if namespace.Labels[podSecurityEnforce] == "privileged" {
		id.Root = true
		return id, nil
	}
	s.nonRootNamespaces = append(s.nonRootNamespaces, remote.Cluster.Name+"/"+ns)
	return id, nil
}

// nonRootWarning is the durable warning of a transfer that runs as a non-root user, or nil:
// MTC's message naming the namespaces where root was asked for and refused, else (root was
// not asked for) what a non-root copy loses and how to keep it. A non-root copy succeeds, so
// without the warning nothing would tell the user that owners and device files are gone.
func (s *Scope) nonRootWarning() *migv1.Condition {
	c := migv1.Condition{Type: migv1.RsyncServerPodsRunningAsNonRoot, Status: migv1.True, Category: migv1.CategoryWarn, Durable: true}
	switch {
	case len(s.nonRootNamespaces) > 0:
		names := slices.Clone(s.nonRootNamespaces)
		slices.Sort(names)
		names = slices.Compact(names)
		c.Message = fmt.Sprintf("%s (label %s=privileged missing on %s): %s",
			nonRootMessage, podSecurityEnforce, strings.Join(names, ", "), nonRootLosses)
	case s.nonRootUser != nil:
		c.Message = fmt.Sprintf("The transfer runs as non-root user %d (runAsRoot is not set): %s. To keep them, set runAsRoot on the "+
			"migration and label the source and destination namespaces %s=privileged.", *s.nonRootUser, nonRootLosses, podSecurityEnforce)
	default:
		return nil
	}
	return &c
}
