package veleroadapter_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/ferrymtc/ferry/pkg/veleroadapter"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/s3"
	"github.com/ferrymtc/ferry/test/velero"
)

const (
	veleroNS = "openshift-migration"
	bucket   = "backups"
	// testTimeout bounds the whole test, which takes about 90 seconds, most of it waiting for
	// the destination's backup sync (once a minute).
	testTimeout = 4 * time.Minute
	// phaseTimeout bounds a backup or restore of a few objects, which takes a second or two.
	phaseTimeout = time.Minute
	// syncTimeout bounds the wait for the destination's next backup sync: Velero ticks once a
	// minute.
	syncTimeout = 100 * time.Second
	// resultsTimeout is what a caller gives Results.
	resultsTimeout = 10 * time.Second
	apiTimeout     = 30 * time.Second
)

// TestReplicateAndRestoreAcrossClusters runs what a final migration does with Velero on two
// real clusters with a real Velero server each, sharing one bucket: the initial backup on the
// source, its replication to the destination (at once, not after Velero's sync), the final
// restore with a namespace mapping, a partially failed restore and its results summary, a
// restore failing validation, and Velero's own later sync leaving the replica alone.
func TestReplicateAndRestoreAcrossClusters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	began := time.Now()

	store, err := s3.Start(s3.Options{TLS: true}) // TLS: results downloads must trust the location's CA.
	if err != nil {
		t.Fatalf("start S3 server: %v", err)
	}
	t.Cleanup(func() { _ = store.Stop() })
	if err := store.CreateBucket(ctx, bucket); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	src := controlplane.StartForTest(t, "source")
	dst := controlplane.StartForTest(t, "destination")
	velero.StartForTest(ctx, t, src, store, veleroNS, bucket)
	velero.StartForTest(ctx, t, dst, store, veleroNS, bucket)
	t.Logf("two clusters with Velero ready in %s", since(began))

	create(ctx, t, src.Client, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}})
	create(ctx, t, src.Client, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "app"},
		Data:       map[string]string{"greeting": "hello"},
	})

	// The initial backup of a final migration.
	mig := veleroadapter.Migration{Name: "mig", UID: "0b6d7a36-1a49-4d61-9bd4-3c1e7f0c1d01", PlanName: "plan", PlanUID: "plan-uid", QuiescePods: true}
	backup := veleroadapter.NewInitialBackup(mig, veleroadapter.BackupOptions{
		VeleroNamespace: veleroNS,
		StorageLocation: velero.LocationName,
		Namespaces:      []string{"app"},
	})
	create(ctx, t, src.Client, backup)
	step := time.Now()
	waitBackup(ctx, t, src.Client, backup.Name, veleroadapter.Completed)
	t.Logf("initial backup completed in %s", since(step))

	// Replicated at once: the destination's sync ran at its start, before the backup existed,
	// and ticks again only a minute later.
	dstLocation := &velerov1.BackupStorageLocation{}
	get(ctx, t, dst.Client, client.ObjectKey{Namespace: veleroNS, Name: velero.LocationName}, dstLocation)
	syncedBefore := dstLocation.Status.LastSyncedTime
	step = time.Now()
	if err := veleroadapter.ReplicateBackup(ctx, src.Client, dst.Client, veleroNS, backup.Name); err != nil {
		t.Fatalf("ReplicateBackup: %v", err)
	}
	replica := &velerov1.Backup{}
	get(ctx, t, dst.Client, client.ObjectKeyFromObject(backup), replica)
	if o := veleroadapter.BackupOutcome(replica); o.State != veleroadapter.Completed {
		t.Fatalf("replica's outcome = %+v, want Completed", o)
	}
	if replica.Labels[velerov1.StorageLocationLabel] != velero.LocationName || replica.Labels["migmigration"] != mig.UID {
		t.Errorf("replica's labels = %v", replica.Labels)
	}
	get(ctx, t, dst.Client, client.ObjectKey{Namespace: veleroNS, Name: velero.LocationName}, dstLocation)
	if !dstLocation.Status.LastSyncedTime.Equal(syncedBefore) {
		t.Logf("note: the destination's sync ran meanwhile (last synced %v, before %v)", dstLocation.Status.LastSyncedTime, syncedBefore)
	}
	if err := veleroadapter.ReplicateBackup(ctx, src.Client, dst.Client, veleroNS, backup.Name); err != nil {
		t.Errorf("second ReplicateBackup (already there): %v", err)
	}
	t.Logf("backup replicated to the destination in %s", since(step))

	// The final restore, into a renamed namespace.
	restore := veleroadapter.NewFinalRestore(mig, veleroadapter.RestoreOptions{
		VeleroNamespace:  veleroNS,
		BackupName:       backup.Name,
		NamespaceMapping: map[string]string{"app": "app-new"},
	})
	step = time.Now()
	create(ctx, t, dst.Client, restore)
	waitRestore(ctx, t, dst.Client, restore.Name, veleroadapter.Completed)
	checkConfigMap(ctx, t, dst.Client, "app-new", restore.Name)
	t.Logf("final restore completed in %s", since(step))

	// A partially failed restore: an admission policy on the destination denies the
	// ConfigMap that this restore brings, and the results say so.
	partial := veleroadapter.NewFinalRestore(veleroadapter.Migration{Name: "partial", UID: "partial-uid", PlanUID: "plan-uid"},
		veleroadapter.RestoreOptions{VeleroNamespace: veleroNS, BackupName: backup.Name, NamespaceMapping: map[string]string{"app": "app-denied"}})
	denyRestoredConfigMaps(ctx, t, dst.Client, partial.Name)
	step = time.Now()
	create(ctx, t, dst.Client, partial)
	r := waitRestore(ctx, t, dst.Client, partial.Name, veleroadapter.PartiallyFailed)
	if o := veleroadapter.RestoreOutcome(r); !strings.HasPrefix(o.Message, "1 error") {
		t.Errorf("partially failed restore's outcome = %+v, want a message counting 1 error", o)
	}
	t.Logf("progress of the partially failed restore: %q", veleroadapter.RestoreProgress(r, time.Now()))
	rctx, rcancel := context.WithTimeout(ctx, resultsTimeout)
	lines, err := veleroadapter.Results(rctx, dst.Client, veleroNS, velerov1.DownloadTargetKindRestoreResults, partial.Name, 5)
	rcancel()
	if err != nil {
		t.Fatalf("Results: %v", err)
	}
	t.Logf("results summary: %q", lines)
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "namespace app-denied: ") || !strings.Contains(lines[0], "configmaps/app-denied/web") {
		t.Errorf("results summary = %q, want a first line about configmaps/app-denied/web in namespace app-denied", lines)
	}
	err = dst.Client.Get(ctx, client.ObjectKey{Namespace: veleroNS, Name: veleroadapter.DownloadRequestName(velerov1.DownloadTargetKindRestoreResults, partial.Name)}, &velerov1.DownloadRequest{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("DownloadRequest after Results: %v, want it deleted", err)
	}
	t.Logf("partially failed restore and its results in %s", since(step))

	// A restore of a backup that does not exist fails validation.
	invalid := veleroadapter.NewFinalRestore(veleroadapter.Migration{Name: "invalid", UID: "invalid-uid"},
		veleroadapter.RestoreOptions{VeleroNamespace: veleroNS, BackupName: "no-such-backup"})
	create(ctx, t, dst.Client, invalid)
	r = waitRestore(ctx, t, dst.Client, invalid.Name, veleroadapter.Failed)
	if o := veleroadapter.RestoreOutcome(r); !strings.HasPrefix(o.Message, "validation failed: ") {
		t.Errorf("invalid restore's outcome = %+v, want a validation failure", o)
	}

	// Velero's own sync on the destination runs (once a minute) and leaves the replica as it
	// is: not deleted as an orphan, not recreated, still restorable.
	step = time.Now()
	waitFor(ctx, t, "the destination's next backup sync", syncTimeout, func(ctx context.Context) (bool, error) {
		l := &velerov1.BackupStorageLocation{}
		if err := dst.Client.Get(ctx, client.ObjectKeyFromObject(dstLocation), l); err != nil {
			return false, err
		}
		return l.Status.LastSyncedTime != nil && l.Status.LastSyncedTime.After(replica.CreationTimestamp.Add(time.Second)), nil
	})
	t.Logf("the destination's sync ran %s later", since(step))
	after := &velerov1.Backup{}
	get(ctx, t, dst.Client, client.ObjectKeyFromObject(backup), after)
	if after.UID != replica.UID || after.Status.Phase != velerov1.BackupPhaseCompleted {
		t.Errorf("after the sync the replica is %s/%s, was %s/%s", after.UID, after.Status.Phase, replica.UID, replica.Status.Phase)
	}
	again := veleroadapter.NewFinalRestore(veleroadapter.Migration{Name: "again", UID: "again-uid"},
		veleroadapter.RestoreOptions{VeleroNamespace: veleroNS, BackupName: backup.Name, NamespaceMapping: map[string]string{"app": "app-again"}})
	create(ctx, t, dst.Client, again)
	waitRestore(ctx, t, dst.Client, again.Name, veleroadapter.Completed)
	checkConfigMap(ctx, t, dst.Client, "app-again", again.Name)
	t.Logf("whole test took %s", since(began))
}

// denyRestoredConfigMaps makes the destination's API server deny ConfigMaps restored by the
// restore named restoreName (Velero labels them velero.io/restore-name), through a
// ValidatingAdmissionPolicy, and waits until the policy is in force.
func denyRestoredConfigMaps(ctx context.Context, t *testing.T, c client.Client, restoreName string) {
	t.Helper()
	expr := fmt.Sprintf("!has(object.metadata.labels) || !(%q in object.metadata.labels) || object.metadata.labels[%q] != %q",
		velerov1.RestoreNameLabel, velerov1.RestoreNameLabel, restoreName)
	create(ctx, t, c, &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-restored-configmaps"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{Expression: expr, Message: "restored ConfigMaps are denied here"}},
		},
	})
	create(ctx, t, c, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-restored-configmaps"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        "deny-restored-configmaps",
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	})
	probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: "probe", Namespace: "default", Labels: map[string]string{velerov1.RestoreNameLabel: restoreName},
	}}
	waitFor(ctx, t, "the admission policy in force", phaseTimeout, func(ctx context.Context) (bool, error) {
		err := c.Create(ctx, probe.DeepCopy(), client.DryRunAll)
		return apierrors.IsInvalid(err) || apierrors.IsForbidden(err), nil
	})
}

func checkConfigMap(ctx context.Context, t *testing.T, c client.Client, ns, restoreName string) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	get(ctx, t, c, client.ObjectKey{Namespace: ns, Name: "web"}, cm)
	if cm.Data["greeting"] != "hello" || cm.Labels[velerov1.RestoreNameLabel] != restoreName {
		t.Errorf("restored ConfigMap %s/web: data %v, labels %v", ns, cm.Data, cm.Labels)
	}
}

// waitBackup waits until the Backup reaches state want, failing at once on another final state.
func waitBackup(ctx context.Context, t *testing.T, c client.Client, name string, want veleroadapter.State) *velerov1.Backup {
	t.Helper()
	b := &velerov1.Backup{}
	waitFor(ctx, t, "Backup "+name+" "+want.String(), phaseTimeout, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: veleroNS, Name: name}, b); err != nil {
			return false, err
		}
		return reached(veleroadapter.BackupOutcome(b), want)
	})
	return b
}

// waitRestore waits until the Restore reaches state want, failing at once on another final state.
func waitRestore(ctx context.Context, t *testing.T, c client.Client, name string, want veleroadapter.State) *velerov1.Restore {
	t.Helper()
	r := &velerov1.Restore{}
	waitFor(ctx, t, "Restore "+name+" "+want.String(), phaseTimeout, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: veleroNS, Name: name}, r); err != nil {
			return false, err
		}
		return reached(veleroadapter.RestoreOutcome(r), want)
	})
	return r
}

func reached(o veleroadapter.Outcome, want veleroadapter.State) (bool, error) {
	switch o.State {
	case want:
		return true, nil
	case veleroadapter.Running:
		return false, nil
	default:
		return false, fmt.Errorf("ended %s (%s), want %s", o.State, o.Message, want)
	}
}

func create(ctx context.Context, t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := c.Create(ctx, obj); err != nil {
		t.Fatalf("create %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
}

func get(ctx context.Context, t *testing.T, c client.Client, key client.ObjectKey, obj client.Object) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := c.Get(ctx, key, obj); err != nil {
		t.Fatalf("get %T %s: %v", obj, key, err)
	}
}

func waitFor(ctx context.Context, t *testing.T, what string, timeout time.Duration, cond wait.ConditionWithContextFunc) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, cond); err != nil {
		t.Fatalf("waiting for %s (at most %s): %v", what, timeout, err)
	}
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
