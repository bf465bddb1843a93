package migplan

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// planPV returns a plan entry for the PV claimed by ns1/claim with the given selection.
func planPV(name, claim string, sel migv1.Selection) migv1.PV {
	return migv1.PV{Name: name, PVC: migv1.PVC{Namespace: "ns1", Name: claim}, Selection: sel}
}

func TestDiscoverKeepsSelections(t *testing.T) {
	edited := migv1.Selection{Action: migv1.PvCopyAction, StorageClass: "gp2", AccessMode: rwx,
		CopyMethod: migv1.PvFilesystemCopyMethod, Verify: true}
	cases := []struct {
		name     string
		existing migv1.PV
		pv       corev1.PersistentVolume
		wantSel  migv1.Selection
		wantPVC  string
	}{
		{"skip stays skip", planPV("pv", "mysql", migv1.Selection{Action: migv1.PvSkipAction}),
			newPV("pv", "ns1", "mysql"), migv1.Selection{Action: migv1.PvSkipAction}, "mysql"},
		{"renamed claim survives", planPV("pv", "mysql:mysql-new", migv1.Selection{Action: migv1.PvCopyAction}),
			newPV("pv", "ns1", "mysql"), migv1.Selection{Action: migv1.PvCopyAction}, "mysql:mysql-new"},
		{"edited attributes survive", planPV("pv", "mysql", edited), newPV("pv", "ns1", "mysql"), edited, "mysql"},
		{"single supported action is forced", planPV("pv", "mysql", edited),
			newPV("pv", "ns1", "mysql", withSource(hostPathSource)),
			migv1.Selection{Action: migv1.PvSkipAction, StorageClass: "gp2", AccessMode: rwx,
				CopyMethod: migv1.PvFilesystemCopyMethod, Verify: true}, "mysql"},
		{"empty selection is not defaulted", planPV("pv", "mysql", migv1.Selection{}), newPV("pv", "ns1", "mysql"),
			migv1.Selection{}, "mysql"},
		{"rename to the same name is dropped", planPV("pv", "mysql:mysql", edited), newPV("pv", "ns1", "mysql"),
			edited, "mysql"},
		{"invalid rename is dropped", planPV("pv", "mysql:a:b", edited), newPV("pv", "ns1", "mysql"), edited, "mysql"},
		{"entry of another claim gets defaults", planPV("pv", "old-claim", edited), newPV("pv", "ns1", "mysql"),
			migv1.Selection{Action: migv1.PvCopyAction, StorageClass: "standard", CopyMethod: migv1.PvFilesystemCopyMethod},
			"mysql"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := newInput(discoveryPlan([]string{"ns1"}, tc.existing), []corev1.PersistentVolume{tc.pv},
				[]corev1.PersistentVolumeClaim{newPVC("ns1", "mysql", "pv")})
			got := discoverOne(t, in)
			if got.Selection != tc.wantSel {
				t.Errorf("selection = %+v, want %+v", got.Selection, tc.wantSel)
			}
			if got.PVC.Name != tc.wantPVC {
				t.Errorf("pvc name = %q, want %q", got.PVC.Name, tc.wantPVC)
			}
		})
	}
}

func TestDiscoverRefreshesAllButSelection(t *testing.T) {
	old := migv1.PV{
		Name: "pv-keep", Capacity: resource.MustParse("1Gi"), StorageClass: "old", CapacityConfirmed: true,
		ProposedCapacity: resource.MustParse("3Gi"),
		Supported:        migv1.Supported{Actions: []string{"skip"}},
		Selection:        migv1.Selection{Action: migv1.PvMoveAction, CopyMethod: migv1.PvSnapshotCopyMethod},
		PVC:              migv1.PVC{Namespace: "ns1", Name: "data", AccessModes: modeList(rox), HasReference: true},
	}
	gone := planPV("pv-gone", "gone", migv1.Selection{Action: migv1.PvSkipAction})
	pvs := []corev1.PersistentVolume{
		newPV("pv-keep", "ns1", "data", withCapacity("2Gi"), withSource(nfsSource), withClass("nfs")),
		newPV("pv-new", "ns1", "new"),
	}
	pvcs := []corev1.PersistentVolumeClaim{newPVC("ns1", "new", "pv-new"), newPVC("ns1", "data", "pv-keep", withModes(rwx))}
	res := DiscoverPVs(newInput(discoveryPlan([]string{"ns1"}, gone, old), pvs, pvcs))
	if got := pvNames(res.PersistentVolumes); !reflect.DeepEqual(got, []string{"pv-keep", "pv-new"}) {
		t.Fatalf("PVs = %v, want [pv-keep pv-new] (sorted, gone dropped)", got)
	}
	got := res.PersistentVolumes[0]
	want := migv1.PV{
		Name: "pv-keep", Capacity: resource.MustParse("2Gi"), StorageClass: "nfs", CapacityConfirmed: true,
		ProposedCapacity: resource.MustParse("3Gi"),
		Supported:        migv1.Supported{Actions: []string{"skip", "copy", "move"}, CopyMethods: supportedCopyMethods()},
		Selection:        old.Selection,
		PVC: migv1.PVC{Namespace: "ns1", Name: "data", AccessModes: modeList(rwx),
			VolumeMode: corev1.PersistentVolumeFilesystem},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("entry =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDiscoverDefaultAction(t *testing.T) {
	cases := []struct {
		actions []string
		want    string
	}{
		{[]string{"skip"}, "skip"},
		{[]string{"skip", "copy"}, "copy"},
		{[]string{"skip", "copy", "move"}, "copy"},
		{[]string{"skip", "move"}, "move"},
		{[]string{"move", "other"}, "move"},
		{nil, ""},
	}
	for _, tc := range cases {
		if got := defaultAction(tc.actions); got != tc.want {
			t.Errorf("defaultAction(%v) = %q, want %q", tc.actions, got, tc.want)
		}
	}
}

// copyPV returns a plan entry copying a Filesystem RWO claim to the class.
func copyPV(name, class string, edit ...func(*migv1.PV)) migv1.PV {
	pv := migv1.PV{
		Name:      name,
		Supported: migv1.Supported{Actions: []string{"skip", "copy"}, CopyMethods: supportedCopyMethods()},
		Selection: migv1.Selection{Action: migv1.PvCopyAction, StorageClass: class, CopyMethod: migv1.PvFilesystemCopyMethod},
		PVC:       migv1.PVC{Namespace: "ns1", Name: name, AccessModes: modeList(rwo)},
	}
	for _, e := range edit {
		e(&pv)
	}
	return pv
}

func TestValidatePVSelections(t *testing.T) {
	dest := []migv1.StorageClass{
		migClass("ebs", "kubernetes.io/aws-ebs", true), migClass("cephfs", "x.cephfs.csi.ceph.com", false),
		migClass("rbd", "x.rbd.csi.ceph.com", false),
	}
	action := func(a string) func(*migv1.PV) { return func(pv *migv1.PV) { pv.Selection.Action = a } }
	mode := func(m corev1.PersistentVolumeAccessMode) func(*migv1.PV) {
		return func(pv *migv1.PV) { pv.Selection.AccessMode = m }
	}
	method := func(m string) func(*migv1.PV) { return func(pv *migv1.PV) { pv.Selection.CopyMethod = m } }
	claimModes := func(m ...corev1.PersistentVolumeAccessMode) func(*migv1.PV) {
		return func(pv *migv1.PV) { pv.PVC.AccessModes = m }
	}
	block := func(pv *migv1.PV) { pv.PVC.VolumeMode = corev1.PersistentVolumeBlock }
	noActions := func(pv *migv1.PV) { pv.Supported.Actions = nil }
	cases := []struct {
		name string
		pvs  []migv1.PV
		want map[string]string // condition type -> bracketed PV names
	}{
		{"valid copy", []migv1.PV{copyPV("a", "ebs")}, nil},
		{"skip and move need nothing else", []migv1.PV{
			copyPV("a", "", action("skip"), method("")),
			copyPV("b", "nope", action("move"), mode("bad"), func(pv *migv1.PV) { pv.Supported.Actions = []string{"move"} })}, nil},
		{"unsupported action", []migv1.PV{copyPV("a", "ebs", action("move")), copyPV("b", "ebs", action(""))},
			map[string]string{migv1.PvInvalidAction: "[a, b]"}},
		{"no supported action", []migv1.PV{copyPV("a", "ebs", noActions, action(""))},
			map[string]string{migv1.PvNoSupportedAction: "[a]"}},
		{"no supported action and an action", []migv1.PV{copyPV("a", "ebs", noActions)},
			map[string]string{migv1.PvNoSupportedAction: "[a]", migv1.PvInvalidAction: "[a]"}},
		{"no storage class", []migv1.PV{copyPV("a", "")}, map[string]string{migv1.PvNoStorageClassSelection: "[a]"}},
		{"unknown storage class", []migv1.PV{copyPV("a", "gp2")}, map[string]string{migv1.PvInvalidStorageClass: "[a]"}},
		{"invalid access mode", []migv1.PV{copyPV("a", "ebs", mode("ReadWriteSometimes"))},
			map[string]string{migv1.PvInvalidAccessMode: "[a]"}},
		{"valid access modes", []migv1.PV{copyPV("a", "cephfs", mode(rwx)), copyPV("b", "cephfs", mode(rox)),
			copyPV("c", "ebs", mode("auto")), copyPV("d", "ebs", mode(corev1.ReadWriteOncePod)), copyPV("e", "ebs", mode(rwo))}, nil},
		{"chosen access mode unavailable", []migv1.PV{copyPV("a", "ebs", mode(rwx))},
			map[string]string{migv1.PvWarnAccessModeUnavailable: "[a]"}},
		{"claim access mode unavailable", []migv1.PV{copyPV("a", "ebs", claimModes(rwo, rwx)), copyPV("b", "cephfs", claimModes(rwo, rwx))},
			map[string]string{migv1.PvWarnAccessModeUnavailable: "[a]"}},
		{"access modes per volume mode", []migv1.PV{copyPV("a", "rbd", block, claimModes(rwx)), copyPV("b", "rbd", claimModes(rwx)),
			copyPV("c", "ebs", block)}, map[string]string{migv1.PvWarnAccessModeUnavailable: "[b, c]", migv1.PvBlockCopyUnsupported: "[a, c]"}},
		{"block-mode volumes are refused until skipped", []migv1.PV{copyPV("a", "rbd", block, claimModes(rwx), method("block")),
			copyPV("b", "rbd", block, claimModes(rwx), action("skip"))}, map[string]string{migv1.PvBlockCopyUnsupported: "[a]"}},
		{"no copy method", []migv1.PV{copyPV("a", "ebs", method(""))}, map[string]string{migv1.PvNoCopyMethodSelection: "[a]"}},
		{"invalid copy method", []migv1.PV{copyPV("a", "ebs", method("teleport"))},
			map[string]string{migv1.PvInvalidCopyMethod: "[a]"}},
		{"snapshot warns, block is refused", []migv1.PV{copyPV("a", "ebs", method("snapshot")), copyPV("b", "ebs", method("block"))},
			map[string]string{migv1.PvWarnCopyMethodSnapshot: "[a]", migv1.PvBlockCopyUnsupported: "[b]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			for _, c := range ValidatePVSelections(tc.pvs, dest) {
				if _, dup := got[c.Type]; dup {
					t.Errorf("condition %s twice", c.Type)
				}
				got[c.Type] = bracketed(c.Message)
			}
			if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
				t.Fatalf("conditions = %v, want %v", got, tc.want)
			}
		})
	}
}

// bracketed returns the "[...]" part of a message.
func bracketed(msg string) string {
	start, end := -1, -1
	for i, r := range msg {
		if r == '[' && start < 0 {
			start = i
		}
		if r == ']' {
			end = i
		}
	}
	if start < 0 || end < start {
		return ""
	}
	return msg[start : end+1]
}

func TestValidatePVSelectionsConditions(t *testing.T) {
	pvs := []migv1.PV{
		copyPV("pv-a", "", func(pv *migv1.PV) { pv.Selection.Action = "move" }),
		copyPV("pv-b", "", func(pv *migv1.PV) { pv.Selection.Action = "move" }),
		copyPV("pv-c", "gone", func(pv *migv1.PV) { pv.Selection.CopyMethod = "" }),
		copyPV("pv-d", "ebs", func(pv *migv1.PV) { pv.Selection.CopyMethod = "snapshot" }),
	}
	want := []migv1.Condition{
		conditions.Error(migv1.PvInvalidAction, migv1.NotDone, "PV in `persistentVolumes` [pv-a, pv-b] has an unsupported `action`."),
		conditions.Error(migv1.PvInvalidStorageClass, migv1.NotDone, "PV in `persistentVolumes` [pv-c] has an unsupported `storageClass`."),
		conditions.Error(migv1.PvNoCopyMethodSelection, migv1.NotFound, "PV in `persistentVolumes` [pv-c] has no `Selected.CopyMethod`."),
		conditions.Warn(migv1.PvWarnCopyMethodSnapshot, "", "CopyMethod for PV in `persistentVolumes` [pv-d] is set to `snapshot`. "+
			"Make sure that the chosen storage class is compatible with the source volume's storage type for Snapshot support."),
	}
	got := ValidatePVSelections(pvs, []migv1.StorageClass{migClass("ebs", "kubernetes.io/aws-ebs", true)})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("conditions =\n%+v\nwant\n%+v", got, want)
	}
	if got := ValidatePVSelections(nil, nil); got != nil {
		t.Fatalf("no PVs: %+v, want none", got)
	}
}

func TestValidatePVSelectionsCategories(t *testing.T) {
	noClass := copyPV("a", "")
	unavailable := copyPV("b", "ebs", func(pv *migv1.PV) { pv.Selection.AccessMode = rwx })
	badMode := copyPV("c", "ebs", func(pv *migv1.PV) { pv.Selection.AccessMode = "x" })
	badMethod := copyPV("d", "ebs", func(pv *migv1.PV) { pv.Selection.CopyMethod = "x" })
	noAction := copyPV("e", "ebs", func(pv *migv1.PV) { pv.Supported.Actions, pv.Selection.Action = nil, "" })
	got := ValidatePVSelections([]migv1.PV{noClass, unavailable, badMode, badMethod, noAction},
		[]migv1.StorageClass{migClass("ebs", "kubernetes.io/aws-ebs", true)})
	want := map[string][2]string{
		migv1.PvNoSupportedAction:         {migv1.CategoryWarn, ""},
		migv1.PvInvalidAccessMode:         {migv1.CategoryError, ""},
		migv1.PvNoStorageClassSelection:   {migv1.CategoryWarn, migv1.NotFound},
		migv1.PvWarnAccessModeUnavailable: {migv1.CategoryWarn, ""},
		migv1.PvInvalidCopyMethod:         {migv1.CategoryError, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("conditions = %+v, want types %v", got, want)
	}
	for _, c := range got {
		if w, ok := want[c.Type]; !ok || c.Category != w[0] || c.Reason != w[1] || c.Status != migv1.True {
			t.Errorf("%s: category %s reason %q, want %v", c.Type, c.Category, c.Reason, w)
		}
	}
}
