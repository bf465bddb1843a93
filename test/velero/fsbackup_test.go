package velero

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/node"
	"github.com/ferrymtc/ferry/test/s3"
)

// fsPhaseTimeout bounds a file-system backup or restore of a few megabytes: the node-agent
// first connects to (or creates) the kopia repository in the bucket, which takes seconds.
const fsPhaseTimeout = 3 * time.Minute

// TestFileSystemBackupMovesPodVolumes runs Velero's file-system backup as MTC's indirect
// volume migration uses it: a node-agent (the DaemonSet of pkg/velerodeploy, as the operator
// ships it) on each cluster's process node, a running pod's local volume backed up with kopia
// into the bucket on the source, and restored into a volume of the destination by the
// destination's node-agent, with Velero's restore helper holding the restored pod until the
// data is there. The destination volume must end identical: contents, modes, owners, links.
func TestFileSystemBackupMovesPodVolumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	began := time.Now()

	store := startStore(ctx, t)
	src := startNodeCluster(ctx, t, "fs-source", store)
	dst := startNodeCluster(ctx, t, "fs-destination", store)
	StartForTest(ctx, t, src.cp, store, veleroNamespace, bucket)
	startNodeAgent(ctx, t, src)
	t.Logf("source with its Velero server and node-agent ready in %s", time.Since(began).Round(time.Millisecond))

	srcPV, dstPV := uniqueName("fs-src"), uniqueName("fs-dst")
	srcDir, dstDir := "/srv/"+srcPV, "/srv/"+dstPV
	t.Cleanup(func() { _ = os.RemoveAll(srcDir); _ = os.RemoveAll(dstDir) })
	writeVolumeData(t, srcDir)
	create(ctx, t, src.cp.Client, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}})
	createLocalVolume(ctx, t, src.cp.Client, srcPV, srcDir, "app", "data")
	create(ctx, t, src.cp.Client, appPod("app"))
	waitPodRunning(ctx, t, src.cp.Client, client.ObjectKey{Namespace: "app", Name: "web"})

	backup := &velerov1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: "fs-backup", Namespace: veleroNamespace},
		Spec: velerov1.BackupSpec{IncludedNamespaces: []string{"app"}, StorageLocation: LocationName,
			DefaultVolumesToFsBackup: ptr.To(true)},
	}
	create(ctx, t, src.cp.Client, backup)
	step := time.Now()
	waitFor(ctx, t, "Backup fs-backup Completed on source", fsPhaseTimeout, func(ctx context.Context) (bool, error) {
		b := &velerov1.Backup{}
		if err := get(ctx, src.cp.Client, client.ObjectKeyFromObject(backup), b); err != nil {
			return false, err
		}
		return backupDone(b)
	})
	pvbs := &velerov1.PodVolumeBackupList{}
	if err := src.cp.Client.List(ctx, pvbs, client.InNamespace(veleroNamespace)); err != nil {
		t.Fatal(err)
	}
	if len(pvbs.Items) != 1 || pvbs.Items[0].Status.Phase != velerov1.PodVolumeBackupPhaseCompleted ||
		pvbs.Items[0].Spec.Node != node.DefaultName || pvbs.Items[0].Status.Progress.TotalBytes < dataBytes {
		t.Fatalf("PodVolumeBackups %+v, want one Completed by %s's node-agent of at least %d bytes", pvbs.Items, node.DefaultName, dataBytes)
	}
	t.Logf("backup with its PodVolumeBackup (%d bytes) completed in %s", pvbs.Items[0].Status.Progress.TotalBytes,
		time.Since(step).Round(time.Millisecond))

	// Started after the backup, the destination's server finds it in its first sync pass.
	StartForTest(ctx, t, dst.cp, store, veleroNamespace, bucket)
	startNodeAgent(ctx, t, dst)
	waitFor(ctx, t, "Backup fs-backup synced to destination", syncTimeout, func(ctx context.Context) (bool, error) {
		b := &velerov1.Backup{}
		err := get(ctx, dst.cp.Client, client.ObjectKeyFromObject(backup), b)
		return err == nil && b.Status.Phase == velerov1.BackupPhaseCompleted, nil
	})
	// The destination's volume waits for the restored claim, as an administrator's
	// pre-provisioned local volume would (there is no provisioner on the local clusters).
	createLocalVolume(ctx, t, dst.cp.Client, dstPV, dstDir, "app", "data")

	restore := &velerov1.Restore{
		ObjectMeta: metav1.ObjectMeta{Name: "fs-restore", Namespace: veleroNamespace},
		Spec:       velerov1.RestoreSpec{BackupName: backup.Name},
	}
	create(ctx, t, dst.cp.Client, restore)
	step = time.Now()
	waitFor(ctx, t, "Restore fs-restore Completed on destination", fsPhaseTimeout, func(ctx context.Context) (bool, error) {
		r := &velerov1.Restore{}
		if err := get(ctx, dst.cp.Client, client.ObjectKeyFromObject(restore), r); err != nil {
			return false, err
		}
		return restoreDone(r)
	})
	pvrs := &velerov1.PodVolumeRestoreList{}
	if err := dst.cp.Client.List(ctx, pvrs, client.InNamespace(veleroNamespace)); err != nil {
		t.Fatal(err)
	}
	if len(pvrs.Items) != 1 || pvrs.Items[0].Status.Phase != velerov1.PodVolumeRestorePhaseCompleted {
		t.Fatalf("PodVolumeRestores %+v, want one Completed", pvrs.Items)
	}
	t.Logf("restore with its PodVolumeRestore completed in %s", time.Since(step).Round(time.Millisecond))
	// The restored pod starts once Velero's restore helper has seen the data arrive.
	waitPodRunning(ctx, t, dst.cp.Client, client.ObjectKey{Namespace: "app", Name: "web"})

	want, got := volumeTree(t, srcDir), volumeTree(t, dstDir)
	if len(want) < 6 {
		t.Fatalf("the source volume lists %d entries, want at least 6: %v", len(want), want)
	}
	for path, entry := range want {
		if got[path] != entry {
			t.Errorf("destination %s = %q, want %q", path, got[path], entry)
		}
	}
	for path := range got {
		if _, ok := want[path]; !ok && !strings.HasPrefix(path, ".velero") {
			t.Errorf("destination has %s, which the source has not", path)
		}
	}
	t.Logf("whole test took %s", time.Since(began).Round(time.Millisecond))
}

// nodeCluster is a control plane with kube-controller-manager, kube-scheduler and a process
// node that runs Velero's binaries for its images.
type nodeCluster struct {
	cp   *controlplane.ControlPlane
	node *node.Node
}

func startNodeCluster(ctx context.Context, t *testing.T, name string, store *s3.Server) *nodeCluster {
	t.Helper()
	cp := controlplane.StartForTest(t, name, controlplane.WithControllerManager(), controlplane.WithScheduler())
	u, err := url.Parse(store.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatalf("S3 endpoint %s: %v", store.Endpoint, err)
	}
	commands, err := NodeCommands()
	if err != nil {
		t.Fatal(err)
	}
	// The node-agent pod and Velero's restore helper run the binaries make velero builds,
	// at the paths Velero's image has them.
	n, err := node.Start(ctx, cp.Config, node.Options{Logf: t.Logf, LoopbackPorts: []int{port}, Commands: commands})
	if err != nil {
		t.Fatalf("start the node of %s: %v", name, err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	return &nodeCluster{cp: cp, node: n}
}

// startNodeAgent runs Velero's node-agent on c (StartNodeAgent); a failed test prints the
// logs of Velero's pods there.
func startNodeAgent(ctx context.Context, t *testing.T, c *nodeCluster) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Velero's pods on %s:\n%s", c.cp.Name, veleroPodLogs(c))
		}
	})
	if err := StartNodeAgent(ctx, c.cp.Client, veleroNamespace, c.node.RootDir()); err != nil {
		t.Fatal(err)
	}
}

// veleroPodLogs are the ends of the logs of the pods in Velero's namespace (the node-agent and
// the data path pods it starts for each PodVolumeBackup and Restore), read as kubectl logs
// reads them.
func veleroPodLogs(c *nodeCluster) string {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	cs, err := kubernetes.NewForConfig(c.cp.Config)
	if err != nil {
		return err.Error()
	}
	pods, err := cs.CoreV1().Pods(veleroNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	var out strings.Builder
	for _, pod := range pods.Items {
		fmt.Fprintf(&out, "--- pod %s (%s) %+v\n", pod.Name, pod.Status.Phase, pod.Status.ContainerStatuses)
		log, err := cs.CoreV1().Pods(veleroNamespace).GetLogs(pod.Name, &corev1.PodLogOptions{TailLines: ptr.To[int64](30)}).DoRaw(ctx)
		if err != nil {
			log = []byte(err.Error())
		}
		out.Write(log)
	}
	return out.String()
}

// createLocalVolume creates a local PV at dir on the node, pre-bound to namespace/claim; on
// the source also the claim.
func createLocalVolume(ctx context.Context, t *testing.T, c client.Client, pv, dir, namespace, claim string) {
	t.Helper()
	size := resource.MustParse("1Gi")
	create(ctx, t, c, &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: pv}, Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: size},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: dir}},
		StorageClassName:       "standard",
		ClaimRef:               &corev1.ObjectReference{Namespace: namespace, Name: claim},
		NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{node.DefaultName}}},
		}}}},
	}})
	if strings.HasPrefix(pv, "fs-src") {
		create(ctx, t, c, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: claim},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: ptr.To("standard"),
				VolumeName: pv, Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			}})
	}
}

// appPod is a running pod of namespace that mounts claim data at /data.
func appPod(namespace string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: namespace, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "web", Image: "busybox", Command: []string{"sleep", "3600"},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}},
		}}
}

func waitPodRunning(ctx context.Context, t *testing.T, c client.Client, key client.ObjectKey) {
	t.Helper()
	waitFor(ctx, t, "pod "+key.String()+" running", fsPhaseTimeout, func(ctx context.Context) (bool, error) {
		pod := &corev1.Pod{}
		err := get(ctx, c, key, pod)
		return err == nil && pod.Status.Phase == corev1.PodRunning, nil // not restored yet, or starting
	})
}

// dataBytes is how much random data writeVolumeData writes.
const dataBytes = 5 << 20

// writeVolumeData fills dir as an application would: files of several modes and owners, a
// nested directory, a symlink and a few megabytes of random data.
func writeVolumeData(t *testing.T, dir string) {
	t.Helper()
	random := make([]byte, dataBytes)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { return os.MkdirAll(filepath.Join(dir, "db/wal"), 0o750) },
		func() error { return os.WriteFile(filepath.Join(dir, "db/data.bin"), random, 0o640) },
		func() error { return os.WriteFile(filepath.Join(dir, "db/wal/0001"), []byte("wal record\n"), 0o600) },
		func() error {
			return os.WriteFile(filepath.Join(dir, "README"), []byte("hello from the source\n"), 0o644)
		},
		func() error { return os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755) },
		func() error { return os.Symlink("db/data.bin", filepath.Join(dir, "current")) },
		func() error { return os.Chown(filepath.Join(dir, "db"), 1001, 2002) },
		func() error { return os.Chown(filepath.Join(dir, "db/data.bin"), 1001, 2002) },
		func() error { return os.Chown(filepath.Join(dir, "db/wal/0001"), 1002, 2002) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("write volume data: %v", err)
		}
	}
}

// volumeTree describes every entry under dir (relative path → kind, mode, owner, and content
// hash or link target), the things a user compares after a migration.
func volumeTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%s %d:%d", info.Mode(), st.Uid, st.Gid)
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case info.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			desc += " " + hex.EncodeToString(sum[:8])
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}

func backupDone(b *velerov1.Backup) (bool, error) {
	switch b.Status.Phase {
	case velerov1.BackupPhaseCompleted:
		return true, nil
	case velerov1.BackupPhaseFailed, velerov1.BackupPhasePartiallyFailed, velerov1.BackupPhaseFailedValidation:
		return false, fmt.Errorf("backup ended %s: %d errors, %d warnings, validation %v, reason %q",
			b.Status.Phase, b.Status.Errors, b.Status.Warnings, b.Status.ValidationErrors, b.Status.FailureReason)
	}
	return false, nil
}

func restoreDone(r *velerov1.Restore) (bool, error) {
	switch r.Status.Phase {
	case velerov1.RestorePhaseCompleted:
		return true, nil
	case velerov1.RestorePhaseFailed, velerov1.RestorePhasePartiallyFailed, velerov1.RestorePhaseFailedValidation:
		return false, fmt.Errorf("restore ended %s: %d errors, %d warnings, validation %v, reason %q",
			r.Status.Phase, r.Status.Errors, r.Status.Warnings, r.Status.ValidationErrors, r.Status.FailureReason)
	}
	return false, nil
}

// uniqueName is prefix with a suffix unique to this run, for host directories under /srv
// that other test processes may share.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano()%1e9)
}
