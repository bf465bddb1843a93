package transfer

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// DefaultNonRootID is the user and group of non-root transfer pods when the migration names
// none (the "nonroot" user of distroless images): the restricted Pod Security level needs a
// non-zero user, and the transfer image's own user is root.
const DefaultNonRootID int64 = 65532

// Identity is who the transfer pods run as.
type Identity struct {
	// Root runs the pods as root with the capabilities that keeping owners, groups, modes and
	// exact symlinks (chroot) needs. Otherwise the pods meet the restricted Pod Security
	// level: a non-root user, no capabilities, no privilege escalation.
	Root bool
	// User and Group are the non-root pods' user and group (DefaultNonRootID when nil).
	// Group is also the pods' fsGroup, so that the volumes are writable by it.
	User, Group *int64
}

func (id Identity) user() int64 {
	if id.User != nil {
		return *id.User
	}
	return DefaultNonRootID
}

func (id Identity) group() int64 {
	if id.Group != nil {
		return *id.Group
	}
	return id.user()
}

// podSecurity is the pod security context of a transfer pod.
func (id Identity) podSecurity(groups []int64) *corev1.PodSecurityContext {
	sc := &corev1.PodSecurityContext{
		SupplementalGroups: groups,
		SeccompProfile:     &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if id.Root {
		sc.RunAsUser, sc.RunAsGroup = ptr.To[int64](0), ptr.To[int64](0)
		return sc
	}
	sc.RunAsNonRoot = ptr.To(true)
	sc.RunAsUser, sc.RunAsGroup, sc.FSGroup = ptr.To(id.user()), ptr.To(id.group()), ptr.To(id.group())
	// Without OnRootMismatch the kubelet re-owns every file of the volume on each pod start:
	// a retry (a new client pod) or a restarted server walks all the data copied so far, and
	// changes its group bits again. With it, a volume whose root already has the group is
	// left alone.
	sc.FSGroupChangePolicy = ptr.To(corev1.FSGroupChangeOnRootMismatch)
	return sc
}

// containerSecurity keeps, as root, only the capabilities rsync needs to write any file with
// its owner, group and mode and to chroot into a module (not privileged, no escalation); as
// non-root, none.
func (id Identity) containerSecurity() *corev1.SecurityContext {
	sc := &corev1.SecurityContext{
		Privileged:               ptr.To(false),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	if id.Root {
		sc.Capabilities.Add = []corev1.Capability{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETUID", "SETGID", "MKNOD", "SYS_CHROOT"}
	} else {
		sc.RunAsNonRoot = ptr.To(true)
	}
	return sc
}
