package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// descTestToken is the remote cluster's token: describe must never print it.
const descTestToken = "sha256~describe-must-not-print-this-token"

// TestDescribeIntegration runs `ferry describe` against a real kube-apiserver holding a
// cutover that failed in its DirectVolume step: a DVM whose rsync failed (with a DVMP
// holding the rsync log), a partially failed Velero Backup on the source (the host), a
// Restore on a destination cluster that cannot be reached, and a hook Job whose pod never
// ran. The output must name the failed step and its cause, and go on past the unreachable
// cluster.
func TestDescribeIntegration(t *testing.T) {
	cp := controlplane.StartForTest(t, "describe")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := cp.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	c := cp.Client
	mig := descSeed(ctx, t, c)

	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		root := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		root.SetArgs(append(args, "--kubeconfig", kubeconfig))
		err := root.ExecuteContext(ctx)
		return out.String(), err
	}

	t.Run("migration", func(t *testing.T) {
		start := time.Now()
		got, err := run("describe", "migration", mig.Name)
		if err != nil {
			t.Fatalf("describe migration: %v", err)
		}
		t.Logf("output:\n%s", got)
		if elapsed := time.Since(start); elapsed > remoteTimeout {
			t.Errorf("describe took %s: the unreachable cluster was not given up on quickly", elapsed)
		}
		descAssertContains(t, got,
			"Kind:          cutover (final)\n",
			"Outcome:       Failed\n",
			"Failed step: DirectVolume (phase WaitForDirectVolumeMigrationToComplete): DVM shop-cutover-1-dvm failed: rsync of PVC shop/data failed after 3 attempts\n",
			"  Caused by: rsync of PVC shop/data failed (pod shop/ferry-rsync-abc-3, exit code 11): rsync error: error in file IO (code 11) at receiver.c(381)\n",
			"  DirectVolume    Failed     ",
			// The Backup on the source (the host): phase, counts, the operator's reading.
			"  Backup openshift-migration/shop-initial (InitialBackup, on the source cluster):\n    Phase:           PartiallyFailed\n",
			"    Items:           40 of 42 backed up\n",
			"    Errors:          3\n",
			"    Failure reason:  some items failed\n",
			// The Restore on the unreachable destination: said, and the rest still shown.
			"  Restore openshift-migration/shop-final (FinalRestore, on the destination cluster):\n    the destination cluster cannot be reached: ",
			"      shop/data  shop-prod/data  Failed  3        45%",
			"        Exit code:  11\n",
			"          rsync: write failed on \"/data/big\": No space left on device (28)\n",
			"  Job shop/shop-prebackuphooks-1 (PreBackupHook, on the source cluster):\n    State:  Running (0 active, 0 failed)\n",
			"    Pod:    shop-prebackuphooks-1-pod (Pending)\n    Log:    empty: the pod has not started\n",
		)
		if strings.Contains(got, descTestToken) {
			t.Error("the output holds the remote cluster's token")
		}
	})

	t.Run("plan", func(t *testing.T) {
		got, err := run("describe", "migplan", "shop")
		if err != nil {
			t.Fatalf("describe plan: %v", err)
		}
		descAssertContains(t, got,
			"Destination cluster:     openshift-migration/dest\n",
			"  shop    shop-prod\n",
			"  pv-data  shop/data  1Gi       standard       copy    fast",
			"  PreBackup  openshift-migration/check  shop",
			"DestinationClusterNotReady  True    Critical  NotReady  The destination cluster is not ready.",
			"  shop-cutover-1  cutover (final)  Completed  Failed",
		)
	})

	t.Run("cluster", func(t *testing.T) {
		got, err := run("describe", "cluster", "dest")
		if err != nil {
			t.Fatalf("describe cluster: %v", err)
		}
		descAssertContains(t, got,
			"URL:                    https://127.0.0.1:1\n",
			"Service account token:  Secret openshift-migration/dest-token (token not shown)\n",
			"TestConnectFailed  True    Critical  ConnectFailed  dial tcp 127.0.0.1:1: connect: connection refused\n",
		)
		if strings.Contains(got, descTestToken) {
			t.Errorf("the output holds the token:\n%s", got)
		}
	})

	t.Run("not found", func(t *testing.T) {
		_, err := run("describe", "mig", "nope")
		if err == nil || !strings.Contains(err.Error(), `MigMigration "nope" not found in namespace openshift-migration`) {
			t.Errorf("err = %v, want a clear NotFound", err)
		}
	})
}

func descAssertContains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q; got:\n%s", w, got)
		}
	}
}

// descCreate creates obj and, when status is given, writes it through the status
// subresource as the controllers do; it returns obj as stored.
func descCreate(ctx context.Context, t *testing.T, c client.Client, obj client.Object, status func()) {
	t.Helper()
	if err := c.Create(ctx, obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
	if status == nil {
		return
	}
	status()
	if err := c.Status().Update(ctx, obj); err != nil {
		t.Fatalf("update status of %T %s: %v", obj, obj.GetName(), err)
	}
}

// descSeed creates the clusters, plan, failed migration and what it created.
func descSeed(ctx context.Context, t *testing.T, c client.Client) *migv1.MigMigration {
	t.Helper()
	const ns = "openshift-migration"
	for _, name := range []string{ns, "shop"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	ref := func(name string) *corev1.ObjectReference { return &corev1.ObjectReference{Namespace: ns, Name: name} }
	now := metav1.Now()
	at := func(ago time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-ago)); return &t }
	cond := func(typ, category, reason, msg string) migv1.Condition {
		return migv1.Condition{Type: typ, Status: migv1.True, Category: category, Reason: reason, Message: msg, LastTransitionTime: now}
	}

	host := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "host"}, Spec: migv1.MigClusterSpec{IsHostCluster: true}}
	descCreate(ctx, t, c, host, func() {
		host.Status.Conditions = migv1.Conditions{cond(migv1.Ready, migv1.CategoryRequired, "", "The cluster is ready.")}
	})
	// The destination is a remote cluster nothing listens for: port 1 refuses connections.
	token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dest-token"}, Data: map[string][]byte{migv1.SaTokenKey: []byte(descTestToken)}}
	if err := c.Create(ctx, token); err != nil {
		t.Fatal(err)
	}
	dest := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dest"}, Spec: migv1.MigClusterSpec{
		URL: "https://127.0.0.1:1", ServiceAccountSecretRef: ref("dest-token"), Insecure: true,
	}}
	descCreate(ctx, t, c, dest, func() {
		dest.Status.Conditions = migv1.Conditions{cond(migv1.TestConnectFailed, migv1.CategoryCritical, "ConnectFailed", "dial tcp 127.0.0.1:1: connect: connection refused")}
	})

	plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}, Spec: migv1.MigPlanSpec{
		SrcMigClusterRef: ref("host"), DestMigClusterRef: ref("dest"), MigStorageRef: ref("s3"),
		Namespaces: []string{"shop:shop-prod"},
		PersistentVolumes: []migv1.PV{{
			Name: "pv-data", Capacity: resource.MustParse("1Gi"), StorageClass: "standard",
			PVC:       migv1.PVC{Namespace: "shop", Name: "data"},
			Selection: migv1.Selection{Action: migv1.PvCopyAction, StorageClass: "fast", CopyMethod: migv1.PvFilesystemCopyMethod},
		}},
		Hooks: []migv1.MigPlanHook{{Phase: migv1.HookPhasePreBackup, Reference: ref("check"), ExecutionNamespace: "shop", ServiceAccount: "default"}},
	}}
	descCreate(ctx, t, c, plan, func() {
		plan.Status.Conditions = migv1.Conditions{cond(migv1.DestinationClusterNotReady, migv1.CategoryCritical, migv1.NotReady, "The destination cluster is not ready.")}
	})

	mig := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-cutover-1"}, Spec: migv1.MigMigrationSpec{
		MigPlanRef: ref("shop"), QuiescePods: true,
	}}
	descCreate(ctx, t, c, mig, func() {
		failed := cond(migv1.Failed, migv1.CategoryAdvisory, "WaitForDirectVolumeMigrationToComplete", "The migration has failed.  See: Errors.")
		failed.Durable = true
		mig.Status = migv1.MigMigrationStatus{
			Itinerary: "Failed", Phase: "Completed", StartTimestamp: at(20 * time.Minute),
			Errors:     []string{"DVM shop-cutover-1-dvm failed: rsync of PVC shop/data failed after 3 attempts"},
			Conditions: migv1.Conditions{failed},
			Pipeline: []*migv1.Step{
				{Name: "Prepare", Message: "Completed", Started: at(20 * time.Minute), Completed: at(19 * time.Minute)},
				{Name: "PreBackupHooks", Message: "Completed", Started: at(19 * time.Minute), Completed: at(18 * time.Minute)},
				{Name: "Backup", Message: "Completed", Started: at(18 * time.Minute), Completed: at(15 * time.Minute)},
				{Name: "DirectVolume", Phase: "WaitForDirectVolumeMigrationToComplete", Message: "Failed", Failed: true,
					Started: at(15 * time.Minute), Completed: at(time.Minute), Progress: []string{"1 total volumes; 0 successful; 0 running; 1 failed"}},
				{Name: "Restore", Message: "Skipped", Skipped: true},
			},
			References: []migv1.MigrationReference{
				{Role: "PreBackupHook", Cluster: "source", Kind: "Job", Namespace: "shop", Name: "shop-prebackuphooks-1"},
				{Role: "InitialBackup", Cluster: "source", Kind: "Backup", Namespace: ns, Name: "shop-initial"},
				{Role: "DirectVolumeMigration", Cluster: "host", Kind: "DirectVolumeMigration", Namespace: ns, Name: "shop-cutover-1-dvm"},
				{Role: "FinalRestore", Cluster: "destination", Kind: "Restore", Namespace: ns, Name: "shop-final"},
			},
		}
	})

	// Velero's CRDs have no status subresource: the status is written with the object.
	backup := &velerov1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-initial"}, Status: velerov1.BackupStatus{
		Phase: velerov1.BackupPhasePartiallyFailed, Errors: 3, Warnings: 1, FailureReason: "some items failed",
		Progress: &velerov1.BackupProgress{TotalItems: 42, ItemsBackedUp: 40}, StartTimestamp: at(18 * time.Minute), CompletionTimestamp: at(15 * time.Minute),
	}}
	if err := c.Create(ctx, backup); err != nil {
		t.Fatal(err)
	}

	descSeedDVM(ctx, t, c, mig)
	descSeedHook(ctx, t, c)
	return mig
}

// descSeedDVM creates the migration's DVM, found by its label, and its DVMP with the rsync
// failure.
func descSeedDVM(ctx context.Context, t *testing.T, c client.Client, mig *migv1.MigMigration) {
	t.Helper()
	kind := migv1.MigrationTypeFinal
	dvm := &migv1.DirectVolumeMigration{
		ObjectMeta: metav1.ObjectMeta{Namespace: mig.Namespace, Name: "shop-cutover-1-dvm", Labels: map[string]string{migv1.DirectVolumeMigrationLabel: string(mig.UID)}},
		Spec: migv1.DirectVolumeMigrationSpec{
			SrcMigClusterRef: &corev1.ObjectReference{Namespace: mig.Namespace, Name: "host"}, MigrationType: &kind,
			PersistentVolumeClaims: []migv1.PVCToMigrate{{
				ObjectReference:    &corev1.ObjectReference{Namespace: "shop", Name: "data"},
				TargetNamespace:    "shop-prod",
				TargetName:         "data",
				TargetStorageClass: "fast",
				TargetAccessModes:  []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			}},
		},
	}
	descCreate(ctx, t, c, dvm, func() {
		pvc := &corev1.ObjectReference{Namespace: "shop", Name: "data"}
		dvm.Status = migv1.DirectVolumeMigrationStatus{
			Phase: "Completed", Itinerary: "VolumeMigrationFailed",
			Errors: []string{"rsync of PVC shop/data failed after 3 attempts"},
			FailedPods: []*migv1.PodProgress{{
				ObjectReference: &corev1.ObjectReference{Namespace: "shop", Name: "ferry-rsync-abc-3"}, PVCReference: pvc,
				LastObservedProgressPercent: "45%", TotalElapsedTime: &metav1.Duration{Duration: 3 * time.Minute},
			}},
			RsyncOperations: []*migv1.RsyncOperation{{PVCReference: pvc, CurrentAttempt: 3, Failed: true}},
		}
	})
	dvmp := &migv1.DirectVolumeMigrationProgress{
		ObjectMeta: metav1.ObjectMeta{Namespace: mig.Namespace, Name: transfer.ProgressName(dvm.Name, "data", "shop"),
			Labels: map[string]string{transfer.LabelDVM: string(dvm.UID)}},
		Spec: migv1.DirectVolumeMigrationProgressSpec{PodNamespace: "shop", PodSelector: map[string]string{transfer.LabelCreatedForPVC: transfer.MD5("data")}},
	}
	descCreate(ctx, t, c, dvmp, func() {
		dvmp.Status.RsyncPodStatus = migv1.RsyncPodStatus{
			PodName: "ferry-rsync-abc-3", PodPhase: corev1.PodFailed, ExitCode: ptr.To[int32](11),
			LogMessage: "sending incremental file list\nrsync: write failed on \"/data/big\": No space left on device (28)\n" +
				"rsync error: error in file IO (code 11) at receiver.c(381)\n",
			LastObservedProgressPercent: "45%",
		}
	})
}

// descSeedHook creates the PreBackup hook Job and a pod of it that never ran (no kubelet):
// describe shows the Job and says why the log is not available.
func descSeedHook(ctx context.Context, t *testing.T, c client.Client) {
	t.Helper()
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "shop-prebackuphooks-1"}, Spec: batchv1.JobSpec{
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "hook", Image: "busybox"}}}},
	}}
	if err := c.Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: job.Name + "-pod", Labels: job.Spec.Template.Labels},
		Spec: *job.Spec.Template.Spec.DeepCopy()}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
}
