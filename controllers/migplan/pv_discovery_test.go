package migplan

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/settings"
)

type pvOpt func(*corev1.PersistentVolume)

// newPV returns a Bound 1Gi CSI PV of class "standard" claimed by ns/claim.
func newPV(name, ns, claim string, opts ...pvOpt) corev1.PersistentVolume {
	pv := corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			ClaimRef:               &corev1.ObjectReference{Namespace: ns, Name: claim},
			StorageClassName:       "standard",
			AccessModes:            modeList(rwo),
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "csi.example.com"}},
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound},
	}
	for _, o := range opts {
		o(&pv)
	}
	return pv
}

func withClass(class string) pvOpt {
	return func(pv *corev1.PersistentVolume) { pv.Spec.StorageClassName = class }
}

func withCapacity(q string) pvOpt {
	return func(pv *corev1.PersistentVolume) { pv.Spec.Capacity[corev1.ResourceStorage] = resource.MustParse(q) }
}

func withPhase(p corev1.PersistentVolumePhase) pvOpt {
	return func(pv *corev1.PersistentVolume) { pv.Status.Phase = p }
}

func withBlock() pvOpt {
	return func(pv *corev1.PersistentVolume) { pv.Spec.VolumeMode = pointerTo(corev1.PersistentVolumeBlock) }
}

func withSource(src corev1.PersistentVolumeSource) pvOpt {
	return func(pv *corev1.PersistentVolume) { pv.Spec.PersistentVolumeSource = src }
}

func withClaimUID(uid types.UID) pvOpt {
	return func(pv *corev1.PersistentVolume) { pv.Spec.ClaimRef.UID = uid }
}

var (
	nfsSource      = corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.example.com", Path: "/x"}}
	hostPathSource = corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}}
	ebsSource      = corev1.PersistentVolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "v"}}
	ebsCSISource   = corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: ebsCSIDriver}}
	glusterSource  = corev1.PersistentVolumeSource{Glusterfs: &corev1.GlusterfsPersistentVolumeSource{}}
)

type pvcOpt func(*corev1.PersistentVolumeClaim)

// newPVC returns a RWO claim bound to volume.
func newPVC(ns, name, volume string, opts ...pvcOpt) corev1.PersistentVolumeClaim {
	pvc := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PersistentVolumeClaimSpec{AccessModes: modeList(rwo), VolumeName: volume},
	}
	for _, o := range opts {
		o(&pvc)
	}
	return pvc
}

func withModes(m ...corev1.PersistentVolumeAccessMode) pvcOpt {
	return func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.AccessModes = m }
}

func withBlockClaim() pvcOpt {
	return func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.VolumeMode = pointerTo(corev1.PersistentVolumeBlock) }
}

func withUID(uid types.UID) pvcOpt { return func(pvc *corev1.PersistentVolumeClaim) { pvc.UID = uid } }

func pointerTo[T any](v T) *T { return &v }

// discoveryPlan returns a plan of the namespaces with the existing PV entries.
func discoveryPlan(namespaces []string, pvs ...migv1.PV) *migv1.MigPlan {
	return &migv1.MigPlan{Spec: migv1.MigPlanSpec{Namespaces: namespaces, PersistentVolumes: pvs}}
}

// newInput returns a discovery input with a "standard" class on both sides and a default gp2
// class on the destination.
func newInput(plan *migv1.MigPlan, pvs []corev1.PersistentVolume, pvcs []corev1.PersistentVolumeClaim) DiscoveryInput {
	return DiscoveryInput{
		Plan: plan, PVs: pvs, PVCs: pvcs,
		SrcClasses:  []storagev1.StorageClass{newClass("standard", "csi.example.com")},
		DestClasses: []storagev1.StorageClass{newClass("standard", "csi.example.com"), defaultClass("gp2", "kubernetes.io/aws-ebs")},
		Settings:    settings.Defaults(),
	}
}

// discoverOne discovers a single PV claimed by ns1/claim and returns its entry.
func discoverOne(t *testing.T, in DiscoveryInput) migv1.PV {
	t.Helper()
	res := DiscoverPVs(in)
	if len(res.PersistentVolumes) != 1 {
		t.Fatalf("discovered %d PVs, want 1: %+v", len(res.PersistentVolumes), res.PersistentVolumes)
	}
	return res.PersistentVolumes[0]
}

func pvNames(pvs []migv1.PV) []string {
	var out []string
	for _, pv := range pvs {
		out = append(out, pv.Name)
	}
	return out
}

func TestDiscoverNewEntryDefaults(t *testing.T) {
	cases := []struct {
		name string
		pv   corev1.PersistentVolume
		pvc  corev1.PersistentVolumeClaim
		want migv1.Selection
	}{
		{"copy to the same class", newPV("pv", "ns1", "data"), newPVC("ns1", "data", "pv"),
			migv1.Selection{Action: migv1.PvCopyAction, StorageClass: "standard", CopyMethod: migv1.PvFilesystemCopyMethod}},
		{"Block PV copies blocks", newPV("pv", "ns1", "data", withBlock()), newPVC("ns1", "data", "pv", withBlockClaim()),
			migv1.Selection{Action: migv1.PvCopyAction, StorageClass: "standard", CopyMethod: migv1.PvBlockCopyMethod}},
		{"unknown class falls back to the default", newPV("pv", "ns1", "data", withClass("gone")), newPVC("ns1", "data", "pv"),
			migv1.Selection{Action: migv1.PvCopyAction, StorageClass: "gp2", CopyMethod: migv1.PvFilesystemCopyMethod}},
		{"NFS defaults to copy among copy and move", newPV("pv", "ns1", "data", withSource(nfsSource)), newPVC("ns1", "data", "pv"),
			migv1.Selection{Action: migv1.PvCopyAction, StorageClass: "gp2", CopyMethod: migv1.PvFilesystemCopyMethod}},
		{"hostPath can only be skipped", newPV("pv", "ns1", "data", withSource(hostPathSource)), newPVC("ns1", "data", "pv"),
			migv1.Selection{Action: migv1.PvSkipAction, StorageClass: "standard", CopyMethod: migv1.PvFilesystemCopyMethod}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := newInput(discoveryPlan([]string{"ns1"}), []corev1.PersistentVolume{tc.pv}, []corev1.PersistentVolumeClaim{tc.pvc})
			got := discoverOne(t, in)
			if got.Selection != tc.want {
				t.Fatalf("selection = %+v, want %+v", got.Selection, tc.want)
			}
		})
	}
}

func TestDiscoverEntryDetails(t *testing.T) {
	pv := newPV("pv-1", "ns1", "data", withCapacity("5Gi"))
	pvc := newPVC("ns1", "data", "pv-1", withModes(rwo, rox))
	got := discoverOne(t, newInput(discoveryPlan([]string{"ns1:other"}), []corev1.PersistentVolume{pv}, []corev1.PersistentVolumeClaim{pvc}))
	want := migv1.PV{
		Name: "pv-1", Capacity: resource.MustParse("5Gi"), StorageClass: "standard",
		Supported: migv1.Supported{Actions: []string{"skip", "copy"}, CopyMethods: []string{"filesystem", "block", "snapshot"}},
		Selection: migv1.Selection{Action: "copy", StorageClass: "standard", CopyMethod: "filesystem"},
		PVC: migv1.PVC{Name: "data", Namespace: "ns1", AccessModes: modeList(rwo, rox),
			VolumeMode: corev1.PersistentVolumeFilesystem},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("entry =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDiscoverSupportedActions(t *testing.T) {
	skipCopy, all := []string{"skip", "copy"}, []string{"skip", "copy", "move"}
	cases := []struct {
		name string
		pv   corev1.PersistentVolume
		move []string
		want []string
	}{
		{"CSI volume copies", newPV("pv", "ns1", "data"), nil, skipCopy},
		{"hostPath only skips", newPV("pv", "ns1", "data", withSource(hostPathSource)), nil, []string{"skip"}},
		{"NFS moves", newPV("pv", "ns1", "data", withSource(nfsSource)), nil, all},
		{"in-tree EBS moves", newPV("pv", "ns1", "data", withSource(ebsSource)), nil, all},
		{"EBS CSI moves", newPV("pv", "ns1", "data", withSource(ebsCSISource)), nil, all},
		{"move storage class moves", newPV("pv", "ns1", "data"), []string{"other", "standard"}, all},
		{"other move storage class does not", newPV("pv", "ns1", "data"), []string{"other"}, skipCopy},
		{"hostPath in a move class still only skips", newPV("pv", "ns1", "data", withSource(hostPathSource)),
			[]string{"standard"}, []string{"skip"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := newInput(discoveryPlan([]string{"ns1"}), []corev1.PersistentVolume{tc.pv},
				[]corev1.PersistentVolumeClaim{newPVC("ns1", "data", "pv")})
			in.Settings.PVMoveStorageClasses = tc.move
			if got := discoverOne(t, in); !reflect.DeepEqual(got.Supported.Actions, tc.want) {
				t.Fatalf("actions = %v, want %v", got.Supported.Actions, tc.want)
			}
		})
	}
}

func TestDiscoverWhichPVs(t *testing.T) {
	pvs := []corev1.PersistentVolume{
		newPV("pv-b", "ns1", "b"), newPV("pv-a", "ns1", "a"), newPV("pv-other", "ns2", "c"),
		newPV("pv-released", "ns1", "d", withPhase(corev1.VolumeReleased)), newPV("pv-nopvc", "ns1", "gone"),
		newPV("pv-stale", "ns1", "e", withClaimUID("old")), newPV("pv-wrong", "ns1", "f"), newPV("pv-f", "ns1", "f"),
		newPV("pv-conv", "ns1", "g-mig-abcd"), newPV("pv-child", "ns1", "h"), newPV("pv-src", "src", "i"),
	}
	child := newPVC("ns1", "h", "pv-child")
	child.OwnerReferences = []metav1.OwnerReference{{Kind: "PersistentVolumeClaim", Name: "a", Controller: pointerTo(true)}}
	pvcs := []corev1.PersistentVolumeClaim{
		newPVC("ns1", "a", "pv-a"), newPVC("ns1", "b", "pv-b"), newPVC("ns2", "c", "pv-other"),
		newPVC("ns1", "d", "pv-released"), newPVC("ns1", "e", "pv-stale", withUID("new")),
		newPVC("ns1", "f", "pv-f"), newPVC("ns1", "g-mig-abcd", "pv-conv"), child, newPVC("src", "i", "pv-src"),
	}
	plan := discoveryPlan([]string{"ns1", "src:dest", "bad:"})
	plan.Status.Suffix = pointerTo("abcd")
	res := DiscoverPVs(newInput(plan, pvs, pvcs))
	if got, want := pvNames(res.PersistentVolumes), []string{"pv-a", "pv-b", "pv-f", "pv-src"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("discovered %v, want %v", got, want)
	}
}

func TestDiscoverExcludedResources(t *testing.T) {
	for _, excluded := range []string{"persistentvolumeclaims", "persistentvolumes", " PersistentVolumes "} {
		t.Run(excluded, func(t *testing.T) {
			in := newInput(discoveryPlan([]string{"ns1"}, migv1.PV{Name: "pv"}), []corev1.PersistentVolume{newPV("pv", "ns1", "data")},
				[]corev1.PersistentVolumeClaim{newPVC("ns1", "data", "pv")})
			in.Settings.ExcludedResources = []string{"events", excluded}
			res := DiscoverPVs(in)
			if len(res.PersistentVolumes) != 0 {
				t.Errorf("PVs = %v, want none", pvNames(res.PersistentVolumes))
			}
			if !conditions.IsTrue(res.Conditions, migv1.PvsDiscovered) || len(res.Conditions) != 1 {
				t.Errorf("conditions = %+v, want PvsDiscovered only", res.Conditions)
			}
			if len(res.DestStorageClasses) != 2 {
				t.Errorf("destination classes = %+v, want 2", res.DestStorageClasses)
			}
		})
	}
}

func TestDiscoverConditions(t *testing.T) {
	pvs := []corev1.PersistentVolume{newPV("pv-a", "ns1", "a"), newPV("pv-b", "ns1", "b")}
	pvcs := []corev1.PersistentVolumeClaim{newPVC("ns1", "a", "pv-a"), newPVC("ns1", "b", "pv-b")}
	cases := []struct {
		limit int
		want  []migv1.Condition
	}{
		{2, []migv1.Condition{conditions.Required(migv1.PvsDiscovered, migv1.Done,
			"The `persistentVolumes` list has been updated with discovered PVs.")}},
		{1, []migv1.Condition{
			conditions.Required(migv1.PvsDiscovered, migv1.Done, "The `persistentVolumes` list has been updated with discovered PVs."),
			conditions.Warn(migv1.PvLimitExceeded, migv1.LimitExceeded, "PV limit: 1 exceeded, found: 2."),
		}},
	}
	for _, tc := range cases {
		in := newInput(discoveryPlan([]string{"ns1"}), pvs, pvcs)
		in.Settings.PVLimit = tc.limit
		if got := DiscoverPVs(in).Conditions; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("limit %d: conditions = %+v, want %+v", tc.limit, got, tc.want)
		}
	}
}

func TestDiscoverNoCephWarning(t *testing.T) {
	pvs := []corev1.PersistentVolume{
		newPV("pv-b", "ns1", "b", withSource(glusterSource)), newPV("pv-a", "ns1", "a", withSource(glusterSource)),
		newPV("pv-moved", "ns1", "c", withSource(glusterSource)), newPV("pv-nfs", "ns1", "d", withSource(nfsSource)),
		newPV("pv-other", "ns1", "e", withSource(glusterSource)),
	}
	pvcs := []corev1.PersistentVolumeClaim{newPVC("ns1", "a", "pv-a"), newPVC("ns1", "b", "pv-b"),
		newPVC("ns1", "c", "pv-moved"), newPVC("ns1", "d", "pv-nfs"), newPVC("ns1", "e", "pv-other")}
	moved := migv1.PV{Name: "pv-moved", PVC: migv1.PVC{Namespace: "ns1", Name: "c"},
		Selection: migv1.Selection{Action: migv1.PvMoveAction, StorageClass: "gp2"}}
	other := migv1.PV{Name: "pv-other", PVC: migv1.PVC{Namespace: "ns1", Name: "e"},
		Selection: migv1.Selection{Action: migv1.PvCopyAction, StorageClass: "standard"}}
	res := DiscoverPVs(newInput(discoveryPlan([]string{"ns1"}, moved, other), pvs, pvcs))
	c := conditions.Find(res.Conditions, migv1.PvWarnNoCephAvailable)
	want := "Ceph is not available on destination. If this is desired, please install the rook operator. " +
		"The following PVs will use the default storage class instead: [pv-a, pv-b]"
	if c == nil || c.Message != want || c.Category != migv1.CategoryWarn {
		t.Fatalf("PvWarnNoCephAvailable = %+v, want Warn %q", c, want)
	}
}

func TestDiscoverNilPlanAndEmptyInput(t *testing.T) {
	res := DiscoverPVs(DiscoveryInput{PVs: []corev1.PersistentVolume{newPV("pv", "ns1", "a")},
		PVCs: []corev1.PersistentVolumeClaim{newPVC("ns1", "a", "pv")}})
	if len(res.PersistentVolumes) != 0 || !conditions.IsTrue(res.Conditions, migv1.PvsDiscovered) {
		t.Fatalf("nil plan: %+v", res)
	}
	broken := newPV("pv", "ns1", "a")
	broken.Spec.Capacity = nil
	broken.Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{}
	pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", OwnerReferences: []metav1.OwnerReference{{APIVersion: "a/b/c"}}},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{}, {VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "a"}}}}}}
	in := DiscoveryInput{Plan: discoveryPlan([]string{"ns1"}), PVs: []corev1.PersistentVolume{broken, {}},
		PVCs: []corev1.PersistentVolumeClaim{newPVC("ns1", "a", ""), {}}, Pods: []corev1.Pod{pod, {}},
		Templates: []PodTemplateOwner{{}}}
	got := discoverOne(t, in)
	if got.PVC.OwnerType != migv1.OwnerTypeUnknown || !got.PVC.HasReference || got.Selection.StorageClass != "" {
		t.Fatalf("entry = %+v, want a referenced claim of unknown owner and no destination class", got)
	}
}
