package velero

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/s3"
)

const (
	veleroNamespace = "velero"
	bucket          = "backups"
	// testTimeout bounds the whole test; it normally takes about 20 seconds, and up to two
	// minutes when the destination's first backup sync misses the backup (see syncTimeout).
	testTimeout = 6 * time.Minute
	// phaseTimeout bounds a backup or restore of a few objects, which takes a second or two.
	phaseTimeout = time.Minute
	// syncTimeout bounds how long a Backup takes to appear on the other cluster. Velero's
	// backup sync ticks once a minute (hard-coded, whatever --backup-sync-period says): a
	// server that is already running sees a new backup up to a minute later. The test starts
	// the destination's server after the backup, so its first pass at start finds it at once;
	// if that pass misses it, the next tick a minute later does.
	syncTimeout = 3 * time.Minute
)

// TestBackupOnSourceRestoresOnDestination runs the migration Velero was built for: two
// clusters, one Velero server each (both running at once on this host), one bucket; a
// namespace backed up on the source is restored under another name on the destination.
func TestBackupOnSourceRestoresOnDestination(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	began := time.Now()

	store := startStore(ctx, t)
	src := controlplane.StartForTest(t, "source", controlplane.WithControllerManager())
	dst := controlplane.StartForTest(t, "destination", controlplane.WithControllerManager())
	StartForTest(ctx, t, src, store, veleroNamespace, bucket)
	t.Logf("two clusters and the source's Velero ready in %s", time.Since(began).Round(time.Millisecond))

	createApp(ctx, t, src.Client, "app")

	backup := &velerov1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: "app-backup", Namespace: veleroNamespace},
		Spec:       velerov1.BackupSpec{IncludedNamespaces: []string{"app"}, StorageLocation: LocationName},
	}
	create(ctx, t, src.Client, backup)
	step := time.Now()
	waitFor(ctx, t, "Backup app-backup Completed on source", phaseTimeout, func(ctx context.Context) (bool, error) {
		b := &velerov1.Backup{}
		if err := get(ctx, src.Client, client.ObjectKeyFromObject(backup), b); err != nil {
			return false, err
		}
		return backupDone(b)
	})
	t.Logf("backup completed in %s", time.Since(step).Round(time.Millisecond))

	// The destination learns of the backup only through its backup sync, which runs at start
	// and then once a minute: started now, its server finds the backup in its first pass
	// instead of up to a minute later (see syncTimeout).
	step = time.Now()
	StartForTest(ctx, t, dst, store, veleroNamespace, bucket)
	waitFor(ctx, t, "Backup app-backup synced to destination", syncTimeout, func(ctx context.Context) (bool, error) {
		b := &velerov1.Backup{}
		err := get(ctx, dst.Client, client.ObjectKeyFromObject(backup), b)
		return err == nil && b.Status.Phase == velerov1.BackupPhaseCompleted, nil
	})
	t.Logf("destination's Velero started and backup synced to it in %s", time.Since(step).Round(time.Millisecond))

	restore := &velerov1.Restore{
		ObjectMeta: metav1.ObjectMeta{Name: "app-restore", Namespace: veleroNamespace},
		Spec: velerov1.RestoreSpec{
			BackupName:       backup.Name,
			NamespaceMapping: map[string]string{"app": "app-restored"},
		},
	}
	create(ctx, t, dst.Client, restore)
	step = time.Now()
	waitFor(ctx, t, "Restore app-restore Completed on destination", phaseTimeout, func(ctx context.Context) (bool, error) {
		r := &velerov1.Restore{}
		if err := get(ctx, dst.Client, client.ObjectKeyFromObject(restore), r); err != nil {
			return false, err
		}
		return restoreDone(r)
	})
	t.Logf("restore completed in %s", time.Since(step).Round(time.Millisecond))

	for _, obj := range []client.Object{&corev1.ConfigMap{}, &corev1.Secret{}, &corev1.Service{}} {
		key := client.ObjectKey{Namespace: "app-restored", Name: "web"}
		if err := get(ctx, dst.Client, key, obj); err != nil {
			t.Errorf("restored %T %s: %v", obj, key, err)
			continue
		}
		if got := obj.GetLabels()[velerov1.RestoreNameLabel]; got != restore.Name {
			t.Errorf("restored %T %s has label %s=%q, want %q", obj, key, velerov1.RestoreNameLabel, got, restore.Name)
		}
	}
	cm := &corev1.ConfigMap{}
	if err := get(ctx, dst.Client, client.ObjectKey{Namespace: "app-restored", Name: "web"}, cm); err == nil && cm.Data["greeting"] != "hello" {
		t.Errorf("restored ConfigMap data = %v, want greeting=hello", cm.Data)
	}
	t.Logf("whole test took %s", time.Since(began).Round(time.Millisecond))
}

// startStore starts an S3 server with the bucket for the length of the test.
func startStore(ctx context.Context, t *testing.T) *s3.Server {
	t.Helper()
	store, err := s3.Start(s3.Options{})
	if err != nil {
		t.Fatalf("start S3 server: %v", err)
	}
	t.Cleanup(func() { _ = store.Stop() })
	if err := store.CreateBucket(ctx, bucket); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return store
}

// createApp creates namespace ns with a ConfigMap, a Secret and a Service, all named web.
func createApp(ctx context.Context, t *testing.T, c client.Client, ns string) {
	t.Helper()
	labels := map[string]string{"app": "web"}
	meta := metav1.ObjectMeta{Name: "web", Namespace: ns, Labels: labels}
	create(ctx, t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	create(ctx, t, c, &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"greeting": "hello"}})
	create(ctx, t, c, &corev1.Secret{ObjectMeta: meta, StringData: map[string]string{"password": "s3cr3t"}})
	create(ctx, t, c, &corev1.Service{ObjectMeta: meta, Spec: corev1.ServiceSpec{
		Selector: labels,
		Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
	}})
}

func create(ctx context.Context, t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := c.Create(ctx, obj); err != nil {
		t.Fatalf("create %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
}

func get(ctx context.Context, c client.Client, key client.ObjectKey, obj client.Object) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := c.Get(ctx, key, obj); err != nil {
		return fmt.Errorf("get %T %s: %w", obj, key, err)
	}
	return nil
}

// waitFor polls cond every half second until it is true, returns an error, or timeout passes;
// the test fails with what was awaited.
func waitFor(ctx context.Context, t *testing.T, what string, timeout time.Duration, cond wait.ConditionWithContextFunc) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, cond); err != nil {
		t.Fatalf("waiting for %s (at most %s): %v", what, timeout, err)
	}
}
