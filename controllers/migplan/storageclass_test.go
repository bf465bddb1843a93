package migplan

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

var (
	rwo = corev1.ReadWriteOnce
	rox = corev1.ReadOnlyMany
	rwx = corev1.ReadWriteMany
)

func modeList(m ...corev1.PersistentVolumeAccessMode) []corev1.PersistentVolumeAccessMode { return m }

// newClass returns a storage class; annotations are key, value pairs.
func newClass(name, provisioner string, annotations ...string) storagev1.StorageClass {
	sc := storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner}
	for i := 0; i+1 < len(annotations); i += 2 {
		if sc.Annotations == nil {
			sc.Annotations = map[string]string{}
		}
		sc.Annotations[annotations[i]] = annotations[i+1]
	}
	return sc
}

// defaultClass returns a storage class annotated as the cluster default.
func defaultClass(name, provisioner string) storagev1.StorageClass {
	return newClass(name, provisioner, defaultClassAnnotation, "true")
}

func migClass(name, provisioner string, isDefault bool) migv1.StorageClass {
	return migv1.StorageClass{Name: name, Provisioner: provisioner, Default: isDefault,
		VolumeAccessModes: volumeAccessModes(provisioner)}
}

func TestStorageClassDefault(t *testing.T) {
	cases := []struct {
		name  string
		class storagev1.StorageClass
		want  bool
	}{
		{"annotated", newClass("a", "p", defaultClassAnnotation, "true"), true},
		{"beta annotation", newClass("a", "p", betaDefaultClassAnnotation, "true"), true},
		{"annotated false", newClass("a", "p", defaultClassAnnotation, "false"), false},
		{"not true as Kubernetes reads it", newClass("a", "p", defaultClassAnnotation, "yes"), false},
		{"no annotation", newClass("a", "p"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := toMigStorageClasses([]storagev1.StorageClass{tc.class})
			if len(got) != 1 || got[0].Default != tc.want || got[0].Name != "a" || got[0].Provisioner != "p" {
				t.Fatalf("toMigStorageClasses = %+v, want one class a/p with default %v", got, tc.want)
			}
		})
	}
}

func TestStorageClassSortedByName(t *testing.T) {
	got := toMigStorageClasses([]storagev1.StorageClass{newClass("b", "p"), newClass("a", "p"), newClass("c", "p")})
	var names []string
	for _, sc := range got {
		names = append(names, sc.Name)
	}
	if !reflect.DeepEqual(names, []string{"a", "b", "c"}) {
		t.Fatalf("names = %v, want [a b c]", names)
	}
}

func TestStorageClassAccessModes(t *testing.T) {
	fs := func(m ...corev1.PersistentVolumeAccessMode) migv1.VolumeModeAccessMode {
		return migv1.VolumeModeAccessMode{VolumeMode: corev1.PersistentVolumeFilesystem, AccessModes: m}
	}
	block := func(m ...corev1.PersistentVolumeAccessMode) migv1.VolumeModeAccessMode {
		return migv1.VolumeModeAccessMode{VolumeMode: corev1.PersistentVolumeBlock, AccessModes: m}
	}
	cases := []struct {
		provisioner string
		want        []migv1.VolumeModeAccessMode
	}{
		{"kubernetes.io/aws-ebs", []migv1.VolumeModeAccessMode{fs(rwo)}},
		{"kubernetes.io/azure-file", []migv1.VolumeModeAccessMode{fs(rwo, rox, rwx)}},
		{"kubernetes.io/gce-pd", []migv1.VolumeModeAccessMode{fs(rwo, rox)}},
		{"kubernetes.io/portworx-volume", []migv1.VolumeModeAccessMode{fs(rwo, rwx)}},
		{"gluster.org/glusterblock-app-storage", []migv1.VolumeModeAccessMode{fs(rwo, rox)}},
		{"openshift-storage.rbd.csi.ceph.com", []migv1.VolumeModeAccessMode{fs(rwo), block(rwo, rox, rwx)}},
		{"openshift-storage.cephfs.csi.ceph.com", []migv1.VolumeModeAccessMode{fs(rwo, rox, rwx)}},
		{"netapp.io/trident", []migv1.VolumeModeAccessMode{fs(rwo, rox), block(rwo, rox, rwx)}},
		{"csi.kubevirt.io", []migv1.VolumeModeAccessMode{fs(rwo), block(rwo)}},
		{"example.com/unknown", []migv1.VolumeModeAccessMode{fs(rwo)}},
		{"prefix.kubernetes.io/aws-ebs", []migv1.VolumeModeAccessMode{fs(rwo)}}, // exact entries do not match by suffix
		{"", []migv1.VolumeModeAccessMode{fs(rwo)}},
	}
	for _, tc := range cases {
		t.Run(tc.provisioner, func(t *testing.T) {
			if got := volumeAccessModes(tc.provisioner); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("volumeAccessModes(%q) = %+v, want %+v", tc.provisioner, got, tc.want)
			}
		})
	}
}

func TestStorageClassAccessModesAreCopies(t *testing.T) {
	got := volumeAccessModes("kubernetes.io/aws-ebs")
	got[0].AccessModes[0] = rwx
	if again := volumeAccessModes("kubernetes.io/aws-ebs"); again[0].AccessModes[0] != rwo {
		t.Fatalf("changing a result changed the table: %v", again)
	}
}

func TestStorageClassOfferedAccessModes(t *testing.T) {
	rbd := migClass("rbd", "openshift-storage.rbd.csi.ceph.com", false)
	if got := offeredAccessModes(rbd, ""); !reflect.DeepEqual(got, modeList(rwo)) {
		t.Errorf("empty volume mode = %v, want Filesystem modes [RWO]", got)
	}
	if got := offeredAccessModes(rbd, corev1.PersistentVolumeBlock); len(got) != 3 {
		t.Errorf("Block = %v, want RWO, ROX, RWX", got)
	}
	if got := offeredAccessModes(migClass("x", "unknown", false), corev1.PersistentVolumeBlock); got != nil {
		t.Errorf("unknown provisioner Block = %v, want none", got)
	}
}

// pvWith returns a PV of the given class and source for storage class tests.
func pvWith(class string, src corev1.PersistentVolumeSource) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{StorageClassName: class, PersistentVolumeSource: src}}
}

func TestStorageClassDestChoice(t *testing.T) {
	const cephfs, rbd = "openshift-storage.cephfs.csi.ceph.com", "openshift-storage.rbd.csi.ceph.com"
	src := []migv1.StorageClass{
		migClass("gp2", "kubernetes.io/aws-ebs", true), migClass("glusterfs", glusterFSProvisioner, false),
		migClass("block", "gluster.org/glusterblock-x", false), migClass("nfs", "example.com/nfs", false),
	}
	ceph := []migv1.StorageClass{
		migClass("cephfs", cephfs, false), migClass("rbd", rbd, false), migClass("standard", "other", true),
	}
	noCeph := []migv1.StorageClass{migClass("gp3", "kubernetes.io/aws-ebs", false), migClass("standard", "other", true)}
	nfs := corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s", Path: "/p"}}
	gluster := corev1.PersistentVolumeSource{Glusterfs: &corev1.GlusterfsPersistentVolumeSource{}}
	cases := []struct {
		name  string
		pv    *corev1.PersistentVolume
		modes []corev1.PersistentVolumeAccessMode
		dest  []migv1.StorageClass
		want  destClassChoice
	}{
		{"same provisioner, same name preferred", pvWith("gp2", corev1.PersistentVolumeSource{}), modeList(rwo),
			[]migv1.StorageClass{migClass("a", "kubernetes.io/aws-ebs", false), migClass("gp2", "kubernetes.io/aws-ebs", false)},
			destClassChoice{name: "gp2"}},
		{"same provisioner, other name", pvWith("gp2", corev1.PersistentVolumeSource{}), modeList(rwo), noCeph,
			destClassChoice{name: "gp3"}},
		{"no class of the provisioner: default", pvWith("unknown", corev1.PersistentVolumeSource{}), modeList(rwo), noCeph,
			destClassChoice{name: "standard"}},
		{"gluster RWX goes to cephfs", pvWith("glusterfs", corev1.PersistentVolumeSource{}), modeList(rwx, rwo), ceph,
			destClassChoice{name: "cephfs"}},
		{"gluster RWO goes to rbd", pvWith("glusterfs", corev1.PersistentVolumeSource{}), modeList(rwo), ceph,
			destClassChoice{name: "rbd"}},
		{"gluster ROX goes to cephfs", pvWith("block", corev1.PersistentVolumeSource{}), modeList(rox), ceph,
			destClassChoice{name: "cephfs"}},
		{"gluster volume source without class", pvWith("", gluster), modeList(rwo), ceph, destClassChoice{name: "rbd"}},
		{"NFS RWX goes to cephfs", pvWith("nfs", nfs), modeList(rwx), ceph, destClassChoice{name: "cephfs"}},
		{"gluster without ceph falls back with a warning", pvWith("glusterfs", corev1.PersistentVolumeSource{}), modeList(rwx),
			noCeph, destClassChoice{name: "standard", cephFallback: true}},
		{"NFS without ceph falls back silently", pvWith("nfs", nfs), modeList(rwx), noCeph,
			destClassChoice{name: "standard"}},
		{"nothing suitable and no default", pvWith("gp2", corev1.PersistentVolumeSource{}), modeList(rwo),
			[]migv1.StorageClass{migClass("x", "other", false)}, destClassChoice{}},
		{"gluster without ceph nor default: no warning", pvWith("glusterfs", corev1.PersistentVolumeSource{}), modeList(rwo),
			nil, destClassChoice{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := chooseDestClass(tc.pv, tc.modes, src, tc.dest); got != tc.want {
				t.Fatalf("chooseDestClass = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestStorageClassOfPV(t *testing.T) {
	pv := pvWith("", corev1.PersistentVolumeSource{})
	pv.Annotations = map[string]string{corev1.BetaStorageClassAnnotation: "beta"}
	if got := pvStorageClassName(pv); got != "beta" {
		t.Errorf("beta annotation: got %q, want beta", got)
	}
	pv.Spec.StorageClassName = "spec"
	if got := pvStorageClassName(pv); got != "spec" {
		t.Errorf("spec wins: got %q, want spec", got)
	}
}
