package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	corev1 "k8s.io/api/core/v1"
)

// identity is the user and groups a container's process runs as, from the pod's and the
// container's security contexts (the container's wins), as a container runtime sets them.
// An image's USER is its pulled config's when numeric, else what Options.ImageUsers says,
// else unknown and counted as root (0), as it is for most images: runAsNonRoot without
// runAsUser is then refused like the kubelet refuses an image that runs as root.
type identity struct {
	UID, GID uint32
	Groups   []uint32
}

// containerIdentity computes the identity of c in pod, or the kubelet's
// CreateContainerConfigError message. imageUser is the USER of c's image when it is known (its
// group stays root's, 0, unless runAsGroup says otherwise).
func containerIdentity(pod *corev1.Pod, c *corev1.Container, imageUser *int64) (*identity, error) {
	uid, gid := imageUser, (*int64)(nil)
	var nonRoot *bool
	var groups []int64
	if psc := pod.Spec.SecurityContext; psc != nil {
		if psc.RunAsUser != nil {
			uid = psc.RunAsUser
		}
		gid, nonRoot = psc.RunAsGroup, psc.RunAsNonRoot
		groups = append(groups, psc.SupplementalGroups...)
		if psc.FSGroup != nil {
			groups = append(groups, *psc.FSGroup)
		}
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			gid = sc.RunAsGroup
		}
		if sc.RunAsNonRoot != nil {
			nonRoot = sc.RunAsNonRoot
		}
	}
	id := &identity{}
	if uid != nil {
		id.UID = uint32(*uid)
	}
	if gid != nil {
		id.GID = uint32(*gid)
	}
	if nonRoot != nil && *nonRoot {
		if uid == nil {
			return nil, errors.New("container has runAsNonRoot and image will run as root (the process node has no image user: set runAsUser)")
		}
		if id.UID == 0 {
			return nil, errors.New("container's runAsUser breaks non-root policy")
		}
	}
	for _, g := range groups {
		id.Groups = append(id.Groups, uint32(g))
	}
	slices.Sort(id.Groups)
	id.Groups = slices.Compact(id.Groups)
	return id, nil
}

// become switches the calling process to id (groups first: setgid and setgroups need
// privileges setuid gives up). Go applies these to every thread of the process.
func (id *identity) become() error {
	if id == nil || id.UID == 0 && id.GID == 0 && len(id.Groups) == 0 {
		return nil
	}
	groups := make([]int, len(id.Groups))
	for i, g := range id.Groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("set supplemental groups: %w", err)
	}
	if err := syscall.Setgid(int(id.GID)); err != nil {
		return fmt.Errorf("set group %d: %w", id.GID, err)
	}
	if err := syscall.Setuid(int(id.UID)); err != nil {
		return fmt.Errorf("set user %d: %w", id.UID, err)
	}
	return nil
}

// setVolumeGroup gives a volume to a pod's fsGroup as the kubelet does for volumes that
// support ownership management (local and most block-backed persistent volumes, Secrets,
// ConfigMaps, projected and downward API volumes): every file and directory gets the group,
// group read (and write when writable), directories group execute and setgid (so new files
// inherit the group). Read-only persistent volumes are left alone by the caller.
func setVolumeGroup(root string, gid int64, writable bool) error {
	fileBits := fs.FileMode(0o040)
	if writable {
		fileBits = 0o060
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, -1, int(gid)); err != nil {
			return fmt.Errorf("fsGroup: %w", err)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode()
		want := mode | fileBits
		if d.IsDir() {
			want |= 0o010 | os.ModeSetgid
		}
		if want == mode {
			return nil
		}
		return os.Chmod(path, want)
	})
}
