package veleroadapter

import (
	"context"
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := velerov1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func location(name, bucket, prefix string, config map[string]string) *velerov1.BackupStorageLocation {
	return &velerov1.BackupStorageLocation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS},
		Spec: velerov1.BackupStorageLocationSpec{
			Provider:    "aws",
			StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: bucket, Prefix: prefix}},
			Config:      config,
		},
	}
}

func sourceBackup() *velerov1.Backup {
	return &velerov1.Backup{
		ObjectMeta: metav1.ObjectMeta{
			Name: "mig-initial-0123456789", Namespace: testNS, UID: "src-uid", ResourceVersion: "42",
			Labels:      map[string]string{"migmigration": "m", velerov1.StorageLocationLabel: "src-loc"},
			Annotations: map[string]string{MigrationTypeAnnotation: "final"},
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "velero.io/v1", Kind: "Schedule", Name: "s", UID: "s-uid"},
				{APIVersion: "example.io/v1", Kind: "Other", Name: "o", UID: "o-uid"},
			},
		},
		Spec: velerov1.BackupSpec{
			StorageLocation: "src-loc", IncludedNamespaces: []string{"ns1"},
			Hooks: velerov1.BackupHooks{Resources: []velerov1.BackupResourceHookSpec{{Name: "h"}}},
		},
		Status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted, Progress: &velerov1.BackupProgress{TotalItems: 3, ItemsBackedUp: 3}},
	}
}

func sourcePVB(name, backupUID string) *velerov1.PodVolumeBackup {
	return &velerov1.PodVolumeBackup{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: testNS,
			Labels: map[string]string{velerov1.BackupNameLabel: "mig-initial-0123456789", velerov1.BackupUIDLabel: backupUID},
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "velero.io/v1", Kind: "Backup", Name: "mig-initial-0123456789", UID: types.UID(backupUID)},
			},
		},
		Spec:   velerov1.PodVolumeBackupSpec{BackupStorageLocation: "src-loc", Volume: "data"},
		Status: velerov1.PodVolumeBackupStatus{Phase: velerov1.PodVolumeBackupPhaseCompleted},
	}
}

func TestReplicateBackup(t *testing.T) {
	ctx := context.Background()
	s := testScheme(t)
	src := fake.NewClientBuilder().WithScheme(s).WithObjects(
		sourceBackup(),
		location("src-loc", "bucket", "velero", map[string]string{"region": "r"}),
		sourcePVB("pvb-1", "src-uid"),
		sourcePVB("pvb-old", "older-backup-uid"),
	).Build()
	dst := fake.NewClientBuilder().WithScheme(s).WithObjects(
		location("other-bucket", "elsewhere", "velero", nil),
		location("b-loc", "bucket", "velero/", map[string]string{"region": "other"}),
		location("a-loc", "bucket", "velero", map[string]string{"region": "r"}),
	).Build()

	if err := ReplicateBackup(ctx, src, dst, testNS, "mig-initial-0123456789"); err != nil {
		t.Fatalf("ReplicateBackup: %v", err)
	}
	got := &velerov1.Backup{}
	if err := dst.Get(ctx, client.ObjectKey{Namespace: testNS, Name: "mig-initial-0123456789"}, got); err != nil {
		t.Fatalf("get the replica: %v", err)
	}
	if got.Spec.StorageLocation != "a-loc" || got.Labels[velerov1.StorageLocationLabel] != "a-loc" {
		t.Errorf("replica's location = %q, label %q; want a-loc (same bucket, prefix and config)",
			got.Spec.StorageLocation, got.Labels[velerov1.StorageLocationLabel])
	}
	if got.Labels["migmigration"] != "m" || got.Annotations[MigrationTypeAnnotation] != "final" {
		t.Errorf("replica lost labels or annotations: %v %v", got.Labels, got.Annotations)
	}
	if got.Status.Phase != velerov1.BackupPhaseCompleted || got.Status.Progress == nil || got.Status.Progress.TotalItems != 3 {
		t.Errorf("replica's status = %+v, want the source's", got.Status)
	}
	if len(got.Spec.Hooks.Resources) != 0 {
		t.Errorf("replica keeps hooks %+v, Velero's sync drops them", got.Spec.Hooks)
	}
	if len(got.OwnerReferences) != 1 || got.OwnerReferences[0].Kind != "Other" {
		t.Errorf("replica's owner references = %+v, want the Schedule one dropped", got.OwnerReferences)
	}

	pvbs := &velerov1.PodVolumeBackupList{}
	if err := dst.List(ctx, pvbs); err != nil {
		t.Fatal(err)
	}
	if len(pvbs.Items) != 1 || pvbs.Items[0].Name != "pvb-1" {
		t.Fatalf("PodVolumeBackups on the destination = %+v, want only pvb-1", pvbs.Items)
	}
	pvb := pvbs.Items[0]
	if pvb.Labels[velerov1.BackupUIDLabel] != string(got.UID) || pvb.OwnerReferences[0].UID != got.UID ||
		pvb.Spec.BackupStorageLocation != "a-loc" || pvb.Status.Phase != velerov1.PodVolumeBackupPhaseCompleted {
		t.Errorf("replicated PodVolumeBackup = %+v, want the replica's UID %s and location a-loc", pvb, got.UID)
	}

	// A second call (crash and retry, or Velero's sync first) succeeds and recreates a
	// missing PodVolumeBackup.
	if err := dst.Delete(ctx, &pvb); err != nil {
		t.Fatal(err)
	}
	if err := ReplicateBackup(ctx, src, dst, testNS, "mig-initial-0123456789"); err != nil {
		t.Fatalf("second ReplicateBackup: %v", err)
	}
	if err := dst.Get(ctx, client.ObjectKeyFromObject(&pvb), &velerov1.PodVolumeBackup{}); err != nil {
		t.Errorf("PodVolumeBackup not recreated: %v", err)
	}
}

func TestReplicateBackupRefuses(t *testing.T) {
	ctx := context.Background()
	s := testScheme(t)
	running := sourceBackup()
	running.Status.Phase = velerov1.BackupPhaseInProgress
	tests := []struct {
		name    string
		src     []client.Object
		dst     []client.Object
		wantErr error
	}{
		{"unfinished backup", []client.Object{running, location("src-loc", "bucket", "velero", nil)},
			[]client.Object{location("a", "bucket", "velero", nil)}, ErrNotReplicable},
		{"no location on the bucket", []client.Object{sourceBackup(), location("src-loc", "bucket", "velero", nil)},
			[]client.Object{location("a", "bucket", "other-prefix", nil)}, ErrNoLocation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fake.NewClientBuilder().WithScheme(s).WithObjects(tt.src...).Build()
			dst := fake.NewClientBuilder().WithScheme(s).WithObjects(tt.dst...).Build()
			err := ReplicateBackup(ctx, src, dst, testNS, "mig-initial-0123456789")
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ReplicateBackup error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDestinationLocationPrefersSameName(t *testing.T) {
	s := testScheme(t)
	src := fake.NewClientBuilder().WithScheme(s).WithObjects(location("loc", "bucket", "velero", nil)).Build()
	dst := fake.NewClientBuilder().WithScheme(s).WithObjects(
		location("aaa", "bucket", "velero", nil), location("loc", "bucket", "velero", map[string]string{"x": "y"}),
	).Build()
	got, err := destinationLocation(context.Background(), src, dst, testNS, "loc")
	if err != nil || got != "loc" {
		t.Errorf("destinationLocation = %q, %v; want loc", got, err)
	}
}

// TestReplicateBackupNeverLeavesANewBackup: the replica carries its status in the create
// only because Velero's Backup CRD has no status subresource. Were one added, the API server
// would drop the status and the destination would hold a New Backup of the same name, which
// its Velero would run and upload over the source's backup. The replica is then deleted and
// the call fails.
func TestReplicateBackupNeverLeavesANewBackup(t *testing.T) {
	for _, tc := range []struct {
		name        string
		dryRunKeeps bool
	}{{"seen in the dry run", false}, {"seen only after the create", true}} {
		t.Run(tc.name, func(t *testing.T) { replicateIntoStatusSubresource(t, tc.dryRunKeeps) })
	}
}

func replicateIntoStatusSubresource(t *testing.T, dryRunKeeps bool) {
	ctx := context.Background()
	s := testScheme(t)
	src := fake.NewClientBuilder().WithScheme(s).WithObjects(
		sourceBackup(), location("src-loc", "bucket", "velero", map[string]string{"region": "r"}),
	).Build()
	// An API server with a status subresource drops the status of a create (in a dry run
	// too, unless dryRunKeeps).
	dst := fake.NewClientBuilder().WithScheme(s).WithObjects(
		location("a-loc", "bucket", "velero", map[string]string{"region": "r"}),
	).WithInterceptorFuncs(interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
		dryRun := (&client.CreateOptions{}).ApplyOptions(opts).DryRun != nil
		if b, ok := obj.(*velerov1.Backup); ok && (!dryRun || !dryRunKeeps) {
			b.Status = velerov1.BackupStatus{}
		}
		return c.Create(ctx, obj, opts...)
	}}).Build()

	err := ReplicateBackup(ctx, src, dst, testNS, "mig-initial-0123456789")
	backups := &velerov1.BackupList{}
	if lerr := dst.List(ctx, backups); lerr != nil {
		t.Fatal(lerr)
	}
	for _, b := range backups.Items {
		if b.Status.Phase == "" || b.Status.Phase == velerov1.BackupPhaseNew {
			t.Errorf("the destination holds Backup %s in phase %q, which its Velero would run", b.Name, b.Status.Phase)
		}
	}
	if err == nil {
		t.Error("ReplicateBackup succeeded without a replica that holds the backup's status")
	} else {
		t.Log(err)
	}
}
