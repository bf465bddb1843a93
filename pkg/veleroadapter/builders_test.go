package veleroadapter

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

const (
	testNS      = "openshift-migration"
	testMigUID  = "11111111-2222-3333-4444-555555555555"
	testPlanUID = "99999999-8888-7777-6666-555555555555"
)

func testMigration(stage, quiesce bool) Migration {
	return Migration{Name: "mig", UID: testMigUID, PlanName: "plan", PlanUID: testPlanUID, Stage: stage, QuiescePods: quiesce}
}

// wantLabels are MTC's labels of a migration's Velero object, with the role label.
func wantLabels(roleLabel string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/part-of": "openshift-migration",
		"migmigration":              testMigUID,
		roleLabel:                   testMigUID,
		"migration.openshift.io/migmigration-name":        "mig",
		"migration.openshift.io/migplan-name":             "plan",
		"migration.openshift.io/migrated-by-migmigration": testMigUID,
		"migration.openshift.io/migrated-by-migplan":      testPlanUID,
	}
}

func TestBackupBuilders(t *testing.T) {
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	opts := BackupOptions{
		VeleroNamespace:   testNS,
		StorageLocation:   "storage-abcde",
		SnapshotLocation:  "storage-" + testPlanUID,
		Namespaces:        []string{"ns1", "ns2"},
		ExcludedResources: []string{"secrets", "imagestreams"},
		LabelSelector:     selector,
		Annotations:       map[string]string{"openshift.io/migration-registry": "10.0.0.1:5000", MigrationTypeAnnotation: "bogus"},
	}
	tests := []struct {
		name  string
		build func(Migration, BackupOptions) *velerov1.Backup
		m     Migration
		opts  func(BackupOptions) BackupOptions
		want  *velerov1.Backup
	}{{
		name:  "initial backup of a final migration with quiesce: no quiesce annotation",
		build: NewInitialBackup,
		m:     testMigration(false, true),
		opts:  func(o BackupOptions) BackupOptions { return o },
		want: &velerov1.Backup{
			ObjectMeta: metav1.ObjectMeta{
				Name: Name(testMigration(false, true), InitialBackup), Namespace: testNS,
				Labels: wantLabels("migration-initial-backup"),
				Annotations: map[string]string{
					"migration.openshift.io/migmigration-type": "final",
					"openshift.io/migration-registry":          "10.0.0.1:5000",
				},
			},
			Spec: velerov1.BackupSpec{
				IncludedNamespaces:      []string{"ns1", "ns2"},
				ExcludedResources:       []string{"imagestreams", "persistentvolumeclaims", "persistentvolumes", "secrets"},
				LabelSelector:           selector,
				TTL:                     metav1.Duration{Duration: 720 * time.Hour},
				StorageLocation:         "storage-abcde",
				VolumeSnapshotLocations: []string{"storage-" + testPlanUID},
			},
		},
	}, {
		name:  "initial backup with included resources drops the excluded ones",
		build: NewInitialBackup,
		m:     testMigration(false, false),
		opts: func(o BackupOptions) BackupOptions {
			o.IncludedResources = []string{"deployments.apps", "persistentvolumeclaims", "secrets", "configmaps", "configmaps"}
			o.SnapshotLocation = ""
			o.LabelSelector = nil
			o.Annotations = nil
			return o
		},
		want: &velerov1.Backup{
			ObjectMeta: metav1.ObjectMeta{
				Name: Name(testMigration(false, false), InitialBackup), Namespace: testNS,
				Labels:      wantLabels("migration-initial-backup"),
				Annotations: map[string]string{"migration.openshift.io/migmigration-type": "final"},
			},
			Spec: velerov1.BackupSpec{
				IncludedNamespaces: []string{"ns1", "ns2"},
				IncludedResources:  []string{"configmaps", "deployments.apps"},
				ExcludedResources:  []string{"imagestreams", "persistentvolumeclaims", "persistentvolumes", "secrets"},
				TTL:                metav1.Duration{Duration: 720 * time.Hour},
				StorageLocation:    "storage-abcde",
			},
		},
	}, {
		name:  "initial backup with image copy disabled keeps the ImageStream objects",
		build: NewInitialBackup,
		m:     testMigration(false, false),
		opts: func(o BackupOptions) BackupOptions {
			o.KeepImageStreams = true
			o.ExcludedResources = []string{"secrets"}
			o.SnapshotLocation, o.LabelSelector, o.Annotations = "", nil, nil
			return o
		},
		want: &velerov1.Backup{
			ObjectMeta: metav1.ObjectMeta{
				Name: Name(testMigration(false, false), InitialBackup), Namespace: testNS,
				Labels: wantLabels("migration-initial-backup"),
				Annotations: map[string]string{
					"migration.openshift.io/migmigration-type":  "final",
					"migration.openshift.io/disable-image-copy": "true",
				},
			},
			Spec: velerov1.BackupSpec{
				IncludedNamespaces: []string{"ns1", "ns2"},
				ExcludedResources:  []string{"persistentvolumeclaims", "persistentvolumes", "secrets"},
				TTL:                metav1.Duration{Duration: 720 * time.Hour},
				StorageLocation:    "storage-abcde",
			},
		},
	}, {
		name:  "stage backup of a stage migration with quiesce",
		build: NewStageBackup,
		m:     testMigration(true, true),
		opts:  func(o BackupOptions) BackupOptions { o.Annotations = nil; return o },
		want: &velerov1.Backup{
			ObjectMeta: metav1.ObjectMeta{
				Name: Name(testMigration(true, true), StageBackup), Namespace: testNS,
				Labels: wantLabels("migration-stage-backup"),
				Annotations: map[string]string{
					"migration.openshift.io/migmigration-type": "stage",
					"openshift.io/migrate-quiesce-pods":        "true",
				},
			},
			Spec: velerov1.BackupSpec{
				IncludedNamespaces: []string{"ns1", "ns2"},
				// StageResources minus the excluded secrets.
				IncludedResources: []string{"configmaps", "namespaces", "persistentvolumeclaims", "persistentvolumes", "pods", "serviceaccounts"},
				ExcludedResources: []string{"imagestreams", "secrets"},
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
					"migration-included-stage-backup": testMigUID,
				}},
				TTL:                     metav1.Duration{Duration: 720 * time.Hour},
				StorageLocation:         "storage-abcde",
				VolumeSnapshotLocations: []string{"storage-" + testPlanUID},
			},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.build(tt.m, tt.opts(opts))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestBackupBuildersDoNotAlias(t *testing.T) {
	o := BackupOptions{Namespaces: []string{"a"}, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"x": "y"}}}
	b := NewInitialBackup(testMigration(false, false), o)
	b.Spec.IncludedNamespaces[0] = "changed"
	b.Spec.LabelSelector.MatchLabels["x"] = "changed"
	if o.Namespaces[0] != "a" || o.LabelSelector.MatchLabels["x"] != "y" {
		t.Errorf("the Backup shares memory with the options: %+v", o)
	}
}

func TestRestoreBuilders(t *testing.T) {
	opts := RestoreOptions{
		VeleroNamespace:   testNS,
		BackupName:        "mig-initial-0123456789",
		NamespaceMapping:  map[string]string{"ns1": "ns1", "ns2": "ns2-new", "ns3": ""},
		ExcludedResources: []string{"routes.route.openshift.io", "buildconfigs.build.openshift.io"},
		StagePodImage:     "registry/stage:1",
	}
	tests := []struct {
		name  string
		build func(Migration, RestoreOptions) *velerov1.Restore
		m     Migration
		want  *velerov1.Restore
	}{{
		name:  "final restore with quiesce",
		build: NewFinalRestore,
		m:     testMigration(false, true),
		want: &velerov1.Restore{
			ObjectMeta: metav1.ObjectMeta{
				Name: Name(testMigration(false, true), FinalRestore), Namespace: testNS,
				Labels: wantLabels("migration-final-restore"),
				Annotations: map[string]string{
					"migration.openshift.io/migmigration-type": "final",
					"openshift.io/migrate-quiesce-pods":        "true",
				},
			},
			Spec: velerov1.RestoreSpec{
				BackupName:        "mig-initial-0123456789",
				ExcludedResources: []string{"buildconfigs.build.openshift.io", "routes.route.openshift.io"},
				NamespaceMapping:  map[string]string{"ns2": "ns2-new"},
				RestorePVs:        ptr.To(true),
			},
		},
	}, {
		name:  "stage restore carries the stage pod image",
		build: NewStageRestore,
		m:     testMigration(true, false),
		want: &velerov1.Restore{
			ObjectMeta: metav1.ObjectMeta{
				Name: Name(testMigration(true, false), StageRestore), Namespace: testNS,
				Labels: wantLabels("migration-stage-restore"),
				Annotations: map[string]string{
					"migration.openshift.io/migmigration-type": "stage",
					"migration.openshift.io/stage-pod-image":   "registry/stage:1",
				},
			},
			Spec: velerov1.RestoreSpec{
				BackupName:        "mig-initial-0123456789",
				ExcludedResources: []string{"buildconfigs.build.openshift.io", "routes.route.openshift.io"},
				NamespaceMapping:  map[string]string{"ns2": "ns2-new"},
				RestorePVs:        ptr.To(true),
			},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.build(tt.m, opts)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestRestoreWithoutRenamedNamespacesHasNoMapping(t *testing.T) {
	r := NewFinalRestore(testMigration(false, false), RestoreOptions{NamespaceMapping: map[string]string{"a": "a"}})
	if r.Spec.NamespaceMapping != nil {
		t.Errorf("NamespaceMapping = %v, want nil", r.Spec.NamespaceMapping)
	}
}

func TestNewDeleteBackupRequest(t *testing.T) {
	long := "a-backup-name-of-exactly-sixty-four-characters-xxxxxxxxxxxxxxxxx"
	tests := []struct{ backup, wantLabel string }{
		{"mig-initial-0123456789", "mig-initial-0123456789"},
		// Velero hashes names longer than a label value, and so must the request's label.
		{long, ""}, // checked below
	}
	for _, tt := range tests {
		got := NewDeleteBackupRequest(testNS, tt.backup)
		want := &velerov1.DeleteBackupRequest{
			ObjectMeta: metav1.ObjectMeta{
				GenerateName: tt.backup + "-", Namespace: testNS,
				Labels: map[string]string{"velero.io/backup-name": tt.wantLabel},
			},
			Spec: velerov1.DeleteBackupRequestSpec{BackupName: tt.backup},
		}
		if len(tt.backup) > 63 {
			want.Labels["velero.io/backup-name"] = got.Labels["velero.io/backup-name"]
			if l := got.Labels["velero.io/backup-name"]; len(l) != 63 || l[:57] != tt.backup[:57] {
				t.Errorf("label of %q = %q, want the first 57 characters and a 6-digit hash", tt.backup, l)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("NewDeleteBackupRequest(%q) = %+v, want %+v", tt.backup, got, want)
		}
	}
}
