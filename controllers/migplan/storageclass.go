package migplan

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// Annotations that mark the default storage class of a cluster. As in Kubernetes, only the
// value "true" counts.
const (
	defaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

// Provisioners that get special treatment when choosing a destination storage class.
const (
	glusterFSProvisioner        = "kubernetes.io/glusterfs"
	glusterBlockProvisionerBase = "gluster.org/glusterblock"
	cephFSProvisionerSuffix     = "cephfs.csi.ceph.com"
	cephRBDProvisionerSuffix    = "rbd.csi.ceph.com"
)

// provisionerMatch says how a table entry matches a provisioner name.
type provisionerMatch int

const (
	matchExact provisionerMatch = iota
	matchPrefix
	matchSuffix
)

// provisionerModes are the access modes a provisioner offers, per volume mode.
type provisionerModes struct {
	provisioner string
	match       provisionerMatch
	filesystem  []corev1.PersistentVolumeAccessMode
	block       []corev1.PersistentVolumeAccessMode
}

var (
	modesRWO       = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	modesRWORWX    = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadWriteMany}
	modesRWOROX    = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany}
	modesRWORWXROX = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany}
)

// provisionerTable is MTC's built-in table of access modes per provisioner. Entries that
// name no volume mode in MTC apply to Filesystem volumes only.
var provisionerTable = []provisionerModes{
	{provisioner: "kubernetes.io/aws-ebs", filesystem: modesRWO},
	{provisioner: "kubernetes.io/azure-file", filesystem: modesRWORWXROX},
	{provisioner: "kubernetes.io/azure-disk", filesystem: modesRWO},
	{provisioner: "kubernetes.io/cinder", filesystem: modesRWO},
	{provisioner: "kubernetes.io/gce-pd", filesystem: modesRWOROX},
	{provisioner: glusterFSProvisioner, filesystem: modesRWORWXROX},
	{provisioner: glusterBlockProvisionerBase, match: matchPrefix, filesystem: modesRWOROX},
	{provisioner: "kubernetes.io/quobyte", filesystem: modesRWORWXROX},
	{provisioner: "kubernetes.io/rbd", filesystem: modesRWOROX},
	{provisioner: "kubernetes.io/vsphere-volume", filesystem: modesRWO},
	{provisioner: "kubernetes.io/portworx-volume", filesystem: modesRWORWX},
	{provisioner: "kubernetes.io/scaleio", filesystem: modesRWOROX},
	{provisioner: "kubernetes.io/storageos", filesystem: modesRWO},
	{provisioner: cephRBDProvisionerSuffix, match: matchSuffix, filesystem: modesRWO, block: modesRWORWXROX},
	{provisioner: cephFSProvisionerSuffix, match: matchSuffix, filesystem: modesRWORWXROX},
	{provisioner: "netapp.io/trident", filesystem: modesRWOROX, block: modesRWORWXROX},
	{provisioner: "csi.kubevirt.io", filesystem: modesRWO, block: modesRWO},
}

// unknownProvisioner is what a provisioner missing from the table offers: Filesystem RWO.
var unknownProvisioner = provisionerModes{filesystem: modesRWO}

func (p provisionerModes) matches(provisioner string) bool {
	switch p.match {
	case matchPrefix:
		return strings.HasPrefix(provisioner, p.provisioner)
	case matchSuffix:
		return strings.HasSuffix(provisioner, p.provisioner)
	default:
		return provisioner == p.provisioner
	}
}

// provisionerEntry returns the table entry of a provisioner, or the unknown-provisioner one.
func provisionerEntry(provisioner string) provisionerModes {
	for _, p := range provisionerTable {
		if p.matches(provisioner) {
			return p
		}
	}
	return unknownProvisioner
}

// volumeAccessModes returns the access modes of a provisioner per volume mode, as shown in
// the plan status. Volume modes without access modes are left out.
func volumeAccessModes(provisioner string) []migv1.VolumeModeAccessMode {
	p := provisionerEntry(provisioner)
	var out []migv1.VolumeModeAccessMode
	if len(p.filesystem) > 0 {
		out = append(out, migv1.VolumeModeAccessMode{
			VolumeMode: corev1.PersistentVolumeFilesystem, AccessModes: slices.Clone(p.filesystem)})
	}
	if len(p.block) > 0 {
		out = append(out, migv1.VolumeModeAccessMode{
			VolumeMode: corev1.PersistentVolumeBlock, AccessModes: slices.Clone(p.block)})
	}
	return out
}

// isDefaultClass reports whether a storage class is annotated as the cluster default.
func isDefaultClass(sc *storagev1.StorageClass) bool {
	return sc.Annotations[defaultClassAnnotation] == "true" || sc.Annotations[betaDefaultClassAnnotation] == "true"
}

// toMigStorageClasses converts a cluster's storage classes for the plan status, sorted by name.
func toMigStorageClasses(list []storagev1.StorageClass) []migv1.StorageClass {
	out := make([]migv1.StorageClass, 0, len(list))
	for i := range list {
		sc := &list[i]
		out = append(out, migv1.StorageClass{
			Name:              sc.Name,
			Provisioner:       sc.Provisioner,
			Default:           isDefaultClass(sc),
			VolumeAccessModes: volumeAccessModes(sc.Provisioner),
		})
	}
	slices.SortStableFunc(out, func(a, b migv1.StorageClass) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// offeredAccessModes returns the access modes a storage class offers for a volume mode; an
// empty volume mode means Filesystem.
func offeredAccessModes(sc migv1.StorageClass, mode corev1.PersistentVolumeMode) []corev1.PersistentVolumeAccessMode {
	if mode == "" {
		mode = corev1.PersistentVolumeFilesystem
	}
	for _, vm := range sc.VolumeAccessModes {
		if vm.VolumeMode == mode {
			return vm.AccessModes
		}
	}
	return nil
}

// findClass returns the storage class of the given name.
func findClass(classes []migv1.StorageClass, name string) (migv1.StorageClass, bool) {
	i := slices.IndexFunc(classes, func(sc migv1.StorageClass) bool { return sc.Name == name })
	if i < 0 {
		return migv1.StorageClass{}, false
	}
	return classes[i], true
}

// defaultClassName returns the name of the first default storage class, or "".
func defaultClassName(classes []migv1.StorageClass) string {
	i := slices.IndexFunc(classes, func(sc migv1.StorageClass) bool { return sc.Default })
	if i < 0 {
		return ""
	}
	return classes[i].Name
}

// destClassChoice is the default destination storage class of a PV.
type destClassChoice struct {
	// name of the chosen class; empty when the destination has no suitable class.
	name string
	// cephFallback says a Gluster volume fell back to the default class as Ceph is missing.
	cephFallback bool
}

// chooseDestClass applies MTC's rule: Gluster and NFS volumes go to CephFS (RWX) or Ceph RBD
// (RWO); other volumes to a class of the same provisioner, preferably of the same name; else
// the destination default class.
func chooseDestClass(pv *corev1.PersistentVolume, modes []corev1.PersistentVolumeAccessMode,
	src, dest []migv1.StorageClass) destClassChoice {
	srcName := pvStorageClassName(pv)
	srcClass, _ := findClass(src, srcName)
	gluster := isGluster(pv, srcClass.Provisioner)
	target := srcClass.Provisioner
	if gluster || pv.Spec.NFS != nil {
		target = cephProvisioner(modes, dest)
	}
	if name := classForProvisioner(target, srcName, dest); name != "" {
		return destClassChoice{name: name}
	}
	name := defaultClassName(dest)
	return destClassChoice{name: name, cephFallback: name != "" && gluster && pv.Spec.NFS == nil}
}

func isGluster(pv *corev1.PersistentVolume, provisioner string) bool {
	return provisioner == glusterFSProvisioner || strings.HasPrefix(provisioner, glusterBlockProvisionerBase) ||
		pv.Spec.Glusterfs != nil
}

// cephProvisioner returns the destination's CephFS provisioner for RWX (or unknown) access,
// its Ceph RBD provisioner for RWO access, or "" when the destination has none.
func cephProvisioner(modes []corev1.PersistentVolumeAccessMode, dest []migv1.StorageClass) string {
	suffix := cephFSProvisionerSuffix
	if !slices.Contains(modes, corev1.ReadWriteMany) && slices.Contains(modes, corev1.ReadWriteOnce) {
		suffix = cephRBDProvisionerSuffix
	}
	for _, sc := range dest {
		if strings.HasSuffix(sc.Provisioner, suffix) {
			return sc.Provisioner
		}
	}
	return ""
}

// classForProvisioner returns the class named preferred if it uses the provisioner, else the
// first class that does, else "".
func classForProvisioner(provisioner, preferred string, classes []migv1.StorageClass) string {
	if provisioner == "" {
		return ""
	}
	first := ""
	for _, sc := range classes {
		if sc.Provisioner != provisioner {
			continue
		}
		if sc.Name == preferred {
			return sc.Name
		}
		if first == "" {
			first = sc.Name
		}
	}
	return first
}

// pvStorageClassName returns the storage class of a PV, from its spec or the beta annotation.
func pvStorageClassName(pv *corev1.PersistentVolume) string {
	if pv.Spec.StorageClassName != "" {
		return pv.Spec.StorageClassName
	}
	return pv.Annotations[corev1.BetaStorageClassAnnotation]
}
