package migmigration

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// TestDVMWarningsReachTheMigration: what the DVM warns about the copy (a non-root transfer
// that did not keep owners) is a durable warning of the migration too, which then ends
// SucceededWithWarnings (F10).
func TestDVMWarningsReachTheMigration(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := migv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "m", UID: "mig-1"}}
	s := &Scope{Migration: m, Plan: &migv1.MigPlan{}, Now: time.Now}
	key := s.dvmKey()
	nonRoot := conditions.Warn(migv1.RsyncServerPodsRunningAsNonRoot, "", "The transfer runs as non-root user 65532 (runAsRoot is not set): file owners and groups are not kept")
	nonRoot.Durable = true
	dvm := &migv1.DirectVolumeMigration{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
		Status: migv1.DirectVolumeMigrationStatus{Phase: dvmPhaseCompleted, Conditions: migv1.Conditions{
			conditions.Advisory(migv1.Succeeded, "", "The migration has succeeded"), nonRoot}}}
	r := &Reconciler{HostDirect: fake.NewClientBuilder().WithScheme(scheme).WithObjects(dvm).Build()}
	out, err := r.waitForDirectVolumeMigration(context.Background(), s)
	if err != nil || !out.Done {
		t.Fatalf("outcome %+v, %v", out, err)
	}
	w := conditions.Find(m.Status.Conditions, migv1.RsyncServerPodsRunningAsNonRoot)
	if w == nil || w.Category != migv1.CategoryWarn || !w.Durable || w.Message != nonRoot.Message {
		t.Errorf("migration warning %+v, want the DVM's %q, durable", w, nonRoot.Message)
	}
}

// TestDVMAccessModeAuto: a PV whose selected access mode is "auto" (let the destination
// decide, MTC's value) keeps the source PVC's modes; "auto" itself is no Kubernetes access
// mode and would make the destination PVC invalid.
func TestDVMAccessModeAuto(t *testing.T) {
	pv := func(mode corev1.PersistentVolumeAccessMode) migv1.PV {
		return migv1.PV{
			PVC:       migv1.PVC{Namespace: "a", Name: "data", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}},
			Selection: migv1.Selection{Action: migv1.PvCopyAction, CopyMethod: migv1.PvFilesystemCopyMethod, StorageClass: "fast", AccessMode: mode},
		}
	}
	for _, tc := range []struct {
		mode corev1.PersistentVolumeAccessMode
		want []corev1.PersistentVolumeAccessMode
	}{
		{"auto", []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}},
		{"", []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}},
		{corev1.ReadWriteOnce, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}},
	} {
		plan := &migv1.MigPlan{Spec: migv1.MigPlanSpec{Namespaces: []string{"a"}, PersistentVolumes: []migv1.PV{pv(tc.mode)}}}
		s := &Scope{Migration: &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "m", UID: "mig-1"}}, Plan: plan, Now: time.Now}
		dvm := s.newDirectVolumeMigration(s.dvmKey())
		if len(dvm.Spec.PersistentVolumeClaims) != 1 || !slices.Equal(dvm.Spec.PersistentVolumeClaims[0].TargetAccessModes, tc.want) {
			t.Errorf("selected %q: target modes %+v, want %v", tc.mode, dvm.Spec.PersistentVolumeClaims, tc.want)
		}
	}
}
