package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// descNow is the clock of the rendering tests; times print in its location (UTC).
var descNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func descAt(minutesAgo int) *metav1.Time {
	t := metav1.NewTime(descNow.Add(-time.Duration(minutesAgo) * time.Minute))
	return &t
}

// descFailedDVMMigration is a cutover that failed copying a volume: the shape the operator
// leaves (Failed condition whose reason is the phase, errors, failed DirectVolume step).
func descFailedDVMMigration() *describedMigration {
	m := &migv1.MigMigration{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-cutover-1", Namespace: "openshift-migration", UID: "mig-uid"},
		Spec:       migv1.MigMigrationSpec{MigPlanRef: &corev1.ObjectReference{Namespace: "openshift-migration", Name: "shop"}, QuiescePods: true},
		Status: migv1.MigMigrationStatus{
			Itinerary:      "Failed",
			Phase:          "Completed",
			StartTimestamp: descAt(30),
			Errors:         []string{"DVM shop-cutover-1-dvm-abc failed: rsync failed for PVC shop/data after 3 attempts"},
			Conditions: migv1.Conditions{{
				Type: migv1.Failed, Status: migv1.True, Category: migv1.CategoryAdvisory,
				Reason: "WaitForDirectVolumeMigrationToComplete", Message: "The migration has failed.  See: Errors.",
				Durable: true, LastTransitionTime: *descAt(5),
			}},
			Pipeline: []*migv1.Step{
				{Name: "Prepare", Message: "Completed", Started: descAt(30), Completed: descAt(29)},
				{Name: "Backup", Message: "Completed", Started: descAt(29), Completed: descAt(25)},
				{Name: "DirectVolume", Phase: "WaitForDirectVolumeMigrationToComplete", Message: "Failed", Failed: true,
					Started: descAt(25), Completed: descAt(5), Progress: []string{"1 total volumes; 0 successful; 0 running; 1 failed"}},
				{Name: "Restore", Message: "Skipped", Skipped: true},
			},
		},
	}
	kind := migv1.MigrationTypeFinal
	dvm := &migv1.DirectVolumeMigration{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-cutover-1-dvm-abc", Namespace: "openshift-migration", UID: "dvm-uid"},
		Spec: migv1.DirectVolumeMigrationSpec{
			MigrationType: &kind,
			PersistentVolumeClaims: []migv1.PVCToMigrate{{
				ObjectReference: &corev1.ObjectReference{Namespace: "shop", Name: "data"},
				TargetNamespace: "shop-prod", TargetName: "data",
			}},
		},
		Status: migv1.DirectVolumeMigrationStatus{
			Phase:  "Completed",
			Errors: []string{"rsync failed for PVC shop/data after 3 attempts"},
			FailedPods: []*migv1.PodProgress{{
				ObjectReference:             &corev1.ObjectReference{Namespace: "shop", Name: "ferry-rsync-x-3"},
				PVCReference:                &corev1.ObjectReference{Namespace: "shop", Name: "data"},
				LastObservedProgressPercent: "45%",
				LastObservedTransferRate:    "10.00MB/s",
				TotalElapsedTime:            &metav1.Duration{Duration: 90 * time.Second},
			}},
			RsyncOperations: []*migv1.RsyncOperation{{PVCReference: &corev1.ObjectReference{Namespace: "shop", Name: "data"}, CurrentAttempt: 3, Failed: true}},
		},
	}
	dvmp := migv1.DirectVolumeMigrationProgress{
		ObjectMeta: metav1.ObjectMeta{Name: transfer.ProgressName(dvm.Name, "data", "shop"), Namespace: "openshift-migration"},
		Spec:       migv1.DirectVolumeMigrationProgressSpec{PodNamespace: "shop"},
		Status: migv1.DirectVolumeMigrationProgressStatus{
			RsyncPodStatus: migv1.RsyncPodStatus{
				PodName: "ferry-rsync-x-3", PodPhase: corev1.PodFailed, ExitCode: ptr.To[int32](11),
				LogMessage:                  "sending incremental file list\nrsync: write failed on \"/data/big\": No space left on device (28)\nrsync error: error in file IO (code 11)\n",
				LastObservedProgressPercent: "45%",
				ContainerElapsedTime:        &metav1.Duration{Duration: 30 * time.Second},
			},
			RsyncPodStatuses: []migv1.RsyncPodStatus{{PodName: "a"}, {PodName: "b"}, {PodName: "c"}},
			RsyncElapsedTime: &metav1.Duration{Duration: 90 * time.Second},
		},
	}
	return &describedMigration{
		Migration: m,
		DVMs:      []describedDVM{{Namespace: dvm.Namespace, Name: dvm.Name, DVM: dvm, Progress: []migv1.DirectVolumeMigrationProgress{dvmp}}},
		Velero: []describedVelero{{
			Ref: migv1.MigrationReference{Role: "InitialBackup", Cluster: "source", Kind: "Backup", Namespace: "openshift-migration", Name: "shop-initial"},
			Backup: &velerov1.Backup{
				ObjectMeta: metav1.ObjectMeta{Name: "shop-initial", Namespace: "openshift-migration"},
				Status: velerov1.BackupStatus{
					Phase: velerov1.BackupPhasePartiallyFailed, Errors: 2, Warnings: 1,
					Progress: &velerov1.BackupProgress{ItemsBackedUp: 40, TotalItems: 42},
				},
			},
		}},
	}
}

func TestDescribeMigrationText(t *testing.T) {
	running := descFailedDVMMigration()
	running.Migration.Status = migv1.MigMigrationStatus{
		Itinerary: "Final", Phase: "WaitForDirectVolumeMigrationToComplete", StartTimestamp: descAt(10),
		Conditions: migv1.Conditions{{Type: migv1.Running, Status: migv1.True, Category: migv1.CategoryAdvisory, Reason: "WaitForDirectVolumeMigrationToComplete", Message: "Step: 20/32"}},
		Pipeline: []*migv1.Step{
			{Name: "Prepare", Message: "Completed", Started: descAt(10), Completed: descAt(9)},
			{Name: "DirectVolume", Phase: "WaitForDirectVolumeMigrationToComplete", Message: "Waiting for the DVM.", Started: descAt(9)},
			{Name: "Restore", Message: "Not started"},
		},
		ProgressWatch: &migv1.ProgressWatch{Phase: "WaitForDirectVolumeMigrationToComplete", Waiting: "DirectVolumeMigration openshift-migration/x", Since: *descAt(2)},
	}
	running.Velero = nil
	running.DVMs = nil

	unreachable := descFailedDVMMigration()
	unreachable.Velero = append(unreachable.Velero, describedVelero{
		Ref:   migv1.MigrationReference{Role: "FinalRestore", Cluster: "destination", Kind: "Restore", Namespace: "openshift-migration", Name: "shop-final"},
		Error: "the destination cluster cannot be reached: dial tcp 127.0.0.1:1: connect: connection refused",
	})

	hookFailed := descFailedDVMMigration()
	hookFailed.DVMs, hookFailed.Velero = nil, nil
	hookFailed.Migration.Status.Errors = []string{"Hook openshift-migration/check (PreBackup) failed on the source cluster"}
	hookFailed.Migration.Status.Conditions[0].Reason = "PreBackupHooks"
	hookFailed.Migration.Status.Pipeline = []*migv1.Step{{Name: "PreBackupHooks", Phase: "PreBackupHooks", Failed: true, Message: "Failed", Started: descAt(3), Completed: descAt(2)}}
	hookFailed.Hooks = []describedHook{{
		Ref: migv1.MigrationReference{Role: "PreBackupHook", Cluster: "source", Kind: "Job", Namespace: "shop", Name: "shop-prebackup-1a2b"},
		Job: &batchv1.Job{Status: batchv1.JobStatus{Failed: 1, Conditions: []batchv1.JobCondition{{
			Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "PodFailurePolicy", Message: "Container exited with 3",
		}}}},
		Pod: "shop-prebackup-1a2b-xyz (Failed)",
		Log: "checking database\nERROR: database is not in read-only mode\n",
	}}

	backupFailed := descFailedDVMMigration()
	backupFailed.DVMs = nil
	backupFailed.Migration.Status.Errors = []string{"Backup openshift-migration/shop-initial failed"}
	backupFailed.Migration.Status.Pipeline[1].Failed = true
	backupFailed.Migration.Status.Pipeline[1].Phase = "InitialBackupCreated"
	backupFailed.Migration.Status.Pipeline[2] = &migv1.Step{Name: "DirectVolume", Skipped: true, Message: "Skipped"}
	backupFailed.Velero[0].Backup.Status = velerov1.BackupStatus{
		Phase:            velerov1.BackupPhaseFailedValidation,
		ValidationErrors: []string{"an existing backup storage location was not specified"},
	}

	tests := []struct {
		name    string
		in      *describedMigration
		want    []string
		notWant []string
	}{{
		name: "failed volume copy names the step, the phase and the rsync cause",
		in:   descFailedDVMMigration(),
		want: []string{
			"Name:          shop-cutover-1\n",
			"Plan:          openshift-migration/shop\n",
			"Kind:          cutover (final)\n",
			"Itinerary:     Failed\n",
			"Outcome:       Failed\n",
			"Elapsed:       25m0s\n",
			"Ended:         2025-03-01 11:55:00 +0000 UTC (5m0s ago)\n",
			"\nFailed step: DirectVolume (phase WaitForDirectVolumeMigrationToComplete): DVM shop-cutover-1-dvm-abc failed: rsync failed for PVC shop/data after 3 attempts\n",
			"  Caused by: rsync of PVC shop/data failed (pod shop/ferry-rsync-x-3, exit code 11): rsync error: error in file IO (code 11)\n",
			"  TYPE    STATUS  CATEGORY  REASON                                  MESSAGE\n",
			"  Failed  True    Advisory  WaitForDirectVolumeMigrationToComplete  The migration has failed.  See: Errors.\n",
			"Errors:\n  - DVM shop-cutover-1-dvm-abc failed",
			"  STEP          STATE      STARTED                                    DURATION\n",
			"  DirectVolume  Failed     2025-03-01 11:35:00 +0000 UTC (25m0s ago)  20m0s\n",
			"  Restore       Skipped    -                                          -\n",
			"    1 total volumes; 0 successful; 0 running; 1 failed\n",
			"Velero backups and restores:\n  Backup openshift-migration/shop-initial (InitialBackup, on the source cluster):\n",
			"    Outcome:   PartiallyFailed: 2 errors, 1 warning\n",
			"    Items:     40 of 42 backed up\n",
			"Direct volume migrations:\n  DirectVolumeMigration openshift-migration/shop-cutover-1-dvm-abc:\n",
			"      PVC        TARGET          STATE   ATTEMPT  PROGRESS  RATE       ELAPSED  POD\n",
			"      shop/data  shop-prod/data  Failed  3        45%       10.00MB/s  1m30s    ferry-rsync-x-3\n",
			"        Pod:        shop/ferry-rsync-x-3 (Failed)\n",
			"        Exit code:  11\n",
			"        Elapsed:    30s (all attempts 1m30s)\n",
			"        Attempts:   3 finished\n",
			"        Rsync log (last lines):\n          sending incremental file list\n          rsync: write failed on \"/data/big\": No space left on device (28)\n",
		},
		// The partially failed backup belongs to the Backup step, not to the failed one.
		notWant: []string{"Caused by: Backup"},
	}, {
		name: "running migration shows its running step and what it waits for",
		in:   running,
		want: []string{
			"Outcome:       Running\n",
			"Elapsed:       10m0s\n",
			"Waiting for:   DirectVolumeMigration openshift-migration/x (unchanged since 2025-03-01 11:58:00 +0000 UTC (2m0s ago))\n",
			"  DirectVolume  Running      2025-03-01 11:51:00 +0000 UTC (9m0s ago)   9m0s\n",
			"  Restore       Not started  -",
			"  DirectVolume:\n    Phase:    WaitForDirectVolumeMigrationToComplete\n    Message:  Waiting for the DVM.\n",
		},
		notWant: []string{"Failed step", "Ended:", "Errors:", "Velero backups"},
	}, {
		name: "unreachable destination is reported and the rest is shown",
		in:   unreachable,
		want: []string{
			"  Restore openshift-migration/shop-final (FinalRestore, on the destination cluster):\n    the destination cluster cannot be reached: dial tcp 127.0.0.1:1: connect: connection refused\n",
			"Direct volume migrations:",
		},
	}, {
		name: "failed hook shows the Job's reason and the log's last line",
		in:   hookFailed,
		want: []string{
			"Failed step: PreBackupHooks (phase PreBackupHooks): Hook openshift-migration/check (PreBackup) failed on the source cluster\n",
			"  Caused by: Job shop/shop-prebackup-1a2b: Failed: PodFailurePolicy: Container exited with 3; last log line: ERROR: database is not in read-only mode\n",
			"Hooks:\n  Job shop/shop-prebackup-1a2b (PreBackupHook, on the source cluster):\n",
			"    State:  Failed: PodFailurePolicy: Container exited with 3\n",
			"    Pod:    shop-prebackup-1a2b-xyz (Failed)\n",
			"    Log (last 20 lines):\n      checking database\n      ERROR: database is not in read-only mode\n",
		},
	}, {
		name: "failed backup shows Velero's validation errors as the cause",
		in:   backupFailed,
		want: []string{
			"Failed step: Backup (phase InitialBackupCreated): Backup openshift-migration/shop-initial failed\n",
			"  Caused by: Backup openshift-migration/shop-initial: validation failed: an existing backup storage location was not specified\n",
			"    Validation errors:\n      - an existing backup storage location was not specified\n",
		},
	}, {
		name: "plan that cannot be read is named with the reason",
		in: &describedMigration{
			Migration: &migv1.MigMigration{
				ObjectMeta: metav1.ObjectMeta{Name: "m", Namespace: "openshift-migration"},
				Spec:       migv1.MigMigrationSpec{MigPlanRef: &corev1.ObjectReference{Name: "gone"}, Stage: true},
				Status: migv1.MigMigrationStatus{Conditions: migv1.Conditions{{
					Type: migv1.InvalidPlanRef, Status: migv1.True, Category: migv1.CategoryCritical, Reason: migv1.NotFound, Message: "The plan does not exist.",
				}}},
			},
			PlanError: `MigPlan "gone" not found`,
		},
		want: []string{
			"Plan:          gone (MigPlan \"gone\" not found)\n",
			"Kind:          stage\n",
			"Outcome:       Not started: InvalidPlanRef\n",
			"Pipeline: <none>\n",
		},
		notWant: []string{"Failed step", "Started:"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := describeMigrationText(tc.in, descNow)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q; got:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("output has %q; got:\n%s", w, got)
				}
			}
		})
	}
}

func TestDescribeMigrationKindAndOutcome(t *testing.T) {
	cond := func(typ string) migv1.Conditions {
		return migv1.Conditions{{Type: typ, Status: migv1.True, Category: migv1.CategoryAdvisory}}
	}
	tests := []struct {
		name        string
		spec        migv1.MigMigrationSpec
		status      migv1.MigMigrationStatus
		kind, state string
	}{
		{"cutover succeeded", migv1.MigMigrationSpec{QuiescePods: true}, migv1.MigMigrationStatus{Phase: "Completed", Conditions: cond(migv1.Succeeded)}, "cutover (final)", "Succeeded"},
		{"stage with warnings", migv1.MigMigrationSpec{Stage: true}, migv1.MigMigrationStatus{Phase: "Completed", Conditions: cond(migv1.SucceededWithWarnings)}, "stage", "Succeeded with warnings"},
		{"state migration running", migv1.MigMigrationSpec{MigrateState: true, Stage: true}, migv1.MigMigrationStatus{Phase: "Started", Conditions: cond(migv1.Running)}, "state", "Running"},
		{"rollback canceled", migv1.MigMigrationSpec{Rollback: true}, migv1.MigMigrationStatus{Phase: "Completed", Conditions: cond(migv1.Canceled)}, "rollback", "Canceled"},
		{"canceling", migv1.MigMigrationSpec{Canceled: true}, migv1.MigMigrationStatus{Phase: "DeleteBackups", Conditions: cond(migv1.Canceling)}, "cutover (final)", "Canceling"},
		{"failed, still cleaning up", migv1.MigMigrationSpec{}, migv1.MigMigrationStatus{Phase: "DeleteBackups", Errors: []string{"x"}}, "cutover (final)", "Failed (cleaning up)"},
		{"failed beats canceled", migv1.MigMigrationSpec{}, migv1.MigMigrationStatus{Phase: "Completed", Conditions: append(cond(migv1.Failed), cond(migv1.Canceled)...)}, "cutover (final)", "Failed"},
		{"postponed", migv1.MigMigrationSpec{}, migv1.MigMigrationStatus{Conditions: cond(migv1.Postponed)}, "cutover (final)", "Postponed"},
		{"never reconciled", migv1.MigMigrationSpec{}, migv1.MigMigrationStatus{}, "cutover (final)", "Not started"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &migv1.MigMigration{Spec: tc.spec, Status: tc.status}
			if got := descMigrationKind(m.Spec); got != tc.kind {
				t.Errorf("kind = %q, want %q", got, tc.kind)
			}
			if got := descMigrationOutcome(m); got != tc.state {
				t.Errorf("outcome = %q, want %q", got, tc.state)
			}
		})
	}
}

func TestDescribeStepState(t *testing.T) {
	tests := []struct {
		step     migv1.Step
		state    string
		duration string
	}{
		{migv1.Step{}, "Not started", ""},
		{migv1.Step{Started: descAt(3)}, "Running", "3m0s"},
		{migv1.Step{Started: descAt(3), Completed: descAt(1)}, "Completed", "2m0s"},
		{migv1.Step{Started: descAt(3), Completed: descAt(1), Failed: true}, "Failed", "2m0s"},
		{migv1.Step{Skipped: true}, "Skipped", ""},
	}
	for _, tc := range tests {
		if got := descStepState(&tc.step); got != tc.state {
			t.Errorf("state of %+v = %q, want %q", tc.step, got, tc.state)
		}
		if got := descStepDuration(&tc.step, descNow); got != tc.duration {
			t.Errorf("duration of %+v = %q, want %q", tc.step, got, tc.duration)
		}
	}
}

func TestDescribePlanText(t *testing.T) {
	plan := &migv1.MigPlan{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "openshift-migration"},
		Spec: migv1.MigPlanSpec{
			SrcMigClusterRef:  &corev1.ObjectReference{Namespace: "openshift-migration", Name: "source"},
			DestMigClusterRef: &corev1.ObjectReference{Namespace: "openshift-migration", Name: "host"},
			MigStorageRef:     &corev1.ObjectReference{Namespace: "openshift-migration", Name: "s3"},
			Namespaces:        []string{"shop:shop-prod", "cache"},
			PersistentVolumes: []migv1.PV{{
				Name: "pv-1", Capacity: resource.MustParse("10Gi"), StorageClass: "gp2",
				PVC:       migv1.PVC{Namespace: "shop", Name: "data:data-new"},
				Selection: migv1.Selection{Action: migv1.PvCopyAction, StorageClass: "gp3", CopyMethod: migv1.PvFilesystemCopyMethod, Verify: true},
			}},
			Hooks: []migv1.MigPlanHook{{Phase: migv1.HookPhasePreBackup, Reference: &corev1.ObjectReference{Namespace: "openshift-migration", Name: "check"}, ExecutionNamespace: "shop", ServiceAccount: "hooks"}},
		},
		Status: migv1.MigPlanStatus{Conditions: migv1.Conditions{
			{Type: migv1.SourceClusterNotReady, Status: migv1.True, Category: migv1.CategoryCritical, Reason: migv1.NotReady, Message: "The source cluster is not ready."},
		}},
	}
	mig := func(name string, minutesAgo int, spec migv1.MigMigrationSpec, status migv1.MigMigrationStatus) migv1.MigMigration {
		return migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: *descAt(minutesAgo)}, Spec: spec, Status: status}
	}
	d := &describedPlan{Plan: plan, Migrations: []migv1.MigMigration{
		mig("stage-1", 60, migv1.MigMigrationSpec{Stage: true}, migv1.MigMigrationStatus{Phase: "Completed", StartTimestamp: descAt(60),
			Conditions: migv1.Conditions{{Type: migv1.Succeeded, Status: migv1.True, LastTransitionTime: *descAt(50)}}}),
		mig("cutover-1", 10, migv1.MigMigrationSpec{QuiescePods: true}, migv1.MigMigrationStatus{Phase: "Completed", Errors: []string{"boom"}}),
	}}
	got := describePlanText(d, descNow)
	for _, w := range []string{
		"Name:                    shop\n",
		"Ready:                   no\n",
		"Source cluster:          openshift-migration/source\n",
		"Replication repository:  openshift-migration/s3\n",
		"Volume migration:        direct\n",
		"Namespaces:\n  SOURCE  DESTINATION\n  shop    shop-prod\n  cache   cache\n",
		"  PV    PVC                    CAPACITY  STORAGE CLASS  ACTION  TARGET STORAGE CLASS  ACCESS MODE  COPY METHOD  VERIFY\n",
		"  pv-1  shop/data -> data-new  10Gi      gp2            copy    gp3                   -            filesystem   yes\n",
		"  PreBackup  openshift-migration/check  shop                 hooks\n",
		"  SourceClusterNotReady  True    Critical  NotReady  The source cluster is not ready.\n",
		// Newest first.
		"  NAME       KIND             PHASE      OUTCOME    STARTED",
		"  cutover-1  cutover (final)  Completed  Failed     -                                           -\n",
		"  stage-1    stage            Completed  Succeeded  2025-03-01 11:00:00 +0000 UTC (1h0m0s ago)  10m0s\n",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q; got:\n%s", w, got)
		}
	}
	if strings.Index(got, "cutover-1") > strings.Index(got, "stage-1") {
		t.Errorf("migrations are not newest first:\n%s", got)
	}

	empty := describePlanText(&describedPlan{Plan: &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Name: "p"}}, MigrationsError: "list MigMigrations: forbidden"}, descNow)
	for _, w := range []string{"Namespaces: <none>\n", "Persistent volumes: <none>\n", "Hooks: <none>\n", "Conditions: <none>\n", "Migrations: list MigMigrations: forbidden\n"} {
		if !strings.Contains(empty, w) {
			t.Errorf("output lacks %q; got:\n%s", w, empty)
		}
	}
}

// TestDescribeClusterText checks the whole layout once, and that the token Secret is named
// without its content.
func TestDescribeClusterText(t *testing.T) {
	c := &migv1.MigCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "source", Namespace: "openshift-migration"},
		Spec: migv1.MigClusterSpec{
			URL:                     "https://api.source.example.com:6443",
			ServiceAccountSecretRef: &corev1.ObjectReference{Namespace: "openshift-config", Name: "source-token"},
			CABundle:                []byte("-----BEGIN CERTIFICATE-----\n"),
		},
		Status: migv1.MigClusterStatus{Conditions: migv1.Conditions{{
			Type: migv1.TestConnectFailed, Status: migv1.True, Category: migv1.CategoryCritical, Reason: "ConnectFailed",
			Message: "the API server rejected the service account token (401 Unauthorized)",
		}}},
	}
	want := `Name:                   source
Namespace:              openshift-migration
Ready:                  no
Host cluster:           no
URL:                    https://api.source.example.com:6443
Insecure:               no
CA bundle:              given (28 bytes)
Service account token:  Secret openshift-config/source-token (token not shown)
Exposed registry path:  <none>

Conditions:
  TYPE               STATUS  CATEGORY  REASON         MESSAGE
  TestConnectFailed  True    Critical  ConnectFailed  the API server rejected the service account token (401 Unauthorized)
`
	if got := describeClusterText(c, descNow); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	host := &migv1.MigCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "host"},
		Spec:       migv1.MigClusterSpec{IsHostCluster: true, Insecure: true, ExposedRegistryPath: "registry.example.com"},
		Status:     migv1.MigClusterStatus{Conditions: migv1.Conditions{{Type: migv1.Ready, Status: migv1.True, Category: migv1.CategoryRequired}}},
	}
	got := describeClusterText(host, descNow)
	for _, w := range []string{"Ready:                  yes\n", "Host cluster:           yes\n", "URL:                    (the cluster the operator runs on)\n",
		"CA bundle:              not given (system trust store); not verified (insecure)\n", "Exposed registry path:  registry.example.com\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q; got:\n%s", w, got)
		}
	}
	if strings.Contains(got, "Service account token") {
		t.Errorf("a host cluster without a Secret shows a token line:\n%s", got)
	}
}

func TestDescribeWriter(t *testing.T) {
	w := &descWriter{now: descNow}
	w.fields(1, descField{"A", "1"}, descField{"Longer key", "two\nlines"}, descField{"Empty", ""})
	w.table(1, []string{"X", "Y", "Z"}, [][]string{{"a", "", "last\tcell"}, {"bbb", "c", ""}})
	w.text(1, "Log", "l1\r\nl2\n\n")
	w.list(1, "None", nil)
	want := `  A:           1
  Longer key:  two lines
  X    Y  Z
  a    -  last cell
  bbb  c  -
  Log:
    l1
    l2
`
	if got := w.String(); got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}

func TestDescribeDVMRows(t *testing.T) {
	ref := func(ns, name string) *corev1.ObjectReference {
		return &corev1.ObjectReference{Namespace: ns, Name: name}
	}
	pvc := func(name string) migv1.PVCToMigrate { return migv1.PVCToMigrate{ObjectReference: ref("ns", name)} }
	dvm := &migv1.DirectVolumeMigration{
		Spec: migv1.DirectVolumeMigrationSpec{PersistentVolumeClaims: []migv1.PVCToMigrate{pvc("done"), pvc("run"), pvc("skip"), pvc("wait"), pvc("retry")}},
		Status: migv1.DirectVolumeMigrationStatus{
			SuccessfulPods: []*migv1.PodProgress{{PVCReference: ref("ns", "done"), LastObservedProgressPercent: "100%"}},
			RunningPods:    []*migv1.PodProgress{{PVCReference: ref("ns", "run"), LastObservedProgressPercent: "12%"}},
			SkippedVolumes: []string{"ns/skip"},
			RsyncOperations: []*migv1.RsyncOperation{
				{PVCReference: ref("ns", "retry"), CurrentAttempt: 2},
			},
		},
	}
	states := descPVCStates(&dvm.Status)
	want := map[string]string{"done": "Completed", "run": "Running", "skip": "Skipped", "wait": "Not started", "retry": "Running"}
	for _, p := range dvm.Spec.PersistentVolumeClaims {
		row := descPVCRow(dvm, p, states)
		if row[2] != want[p.Name] {
			t.Errorf("state of %s = %q, want %q (row %v)", p.Name, row[2], want[p.Name], row)
		}
		if row[1] != "ns/"+p.Name {
			t.Errorf("target of %s = %q", p.Name, row[1])
		}
	}
	if row := descPVCRow(dvm, pvc("retry"), states); row[3] != "2" {
		t.Errorf("attempt of retry = %q, want 2", row[3])
	}
}

// TestDescribeCommandArgs checks what describe says about its arguments before it connects
// to anything.
func TestDescribeCommandArgs(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		wantOut string
	}{
		{nil, "", "Available Commands:"},
		{[]string{"migrtion", "x"}, `cannot describe "migrtion": say migration, plan or cluster, then the name`, ""},
		{[]string{"plan"}, "give the name of the MigPlan to describe", ""},
		{[]string{"mig", "a", "b"}, "describe one MigMigration at a time (got 2 names)", ""},
		{[]string{"migcluster"}, "give the name of the MigCluster to describe", ""},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			o := &Options{IOStreams: genericiooptions.IOStreams{Out: &out, ErrOut: &out}, Kube: genericclioptions.NewConfigFlags(true)}
			cmd := newDescribeCommand(o)
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			cmd.SetArgs(tc.args)
			err := cmd.Execute()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantOut, out.String())
			}
		})
	}
}
