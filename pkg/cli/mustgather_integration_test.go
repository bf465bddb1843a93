package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/install"
	"github.com/ferrymtc/ferry/test/node"
)

// Distinctive values of the Secrets and other credentials the integration test plants; none
// may appear in the archive, in clear or base64.
const (
	mgS3AccessKey   = "AKIAFERRYMUSTGATHER1"
	mgS3SecretKey   = "ferry/MustGather+S3secret/9f8e7d6c"
	mgGoneToken     = "gone-cluster-token-7c1e55aa"
	mgBSLSecret     = "bsl-config-secret-41b2c9"
	mgEnvToken      = "env-literal-token-0d9a3f"
	mgCloudPassword = "cloud-file-password-6e8a"
	mgNamespace     = "openshift-migration"
	mgConfigNS      = "openshift-config"
)

// TestMustGatherIntegration runs `ferry must-gather` against two real control planes: the
// host, with the migration objects, and a source registered as a remote MigCluster with a
// least-privilege token (install.RemoteToken), plus a MigCluster nobody answers for. Process
// nodes (test/node) run an operator pod on the host and transfer, hook and Velero pods on
// the source, so that real logs are collected. The archive must hold the expected files and
// no Secret value.
func TestMustGatherIntegration(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	host := controlplane.StartForTest(t, "host")
	source := controlplane.StartForTest(t, "source")
	token, err := install.RemoteToken(ctx, source, install.Source)
	if err != nil {
		t.Fatal(err)
	}
	mgStartNode(ctx, t, host)
	mgStartNode(ctx, t, source)

	mgCreate(ctx, t, host.Client, mgHostObjects(source, token)...)
	mgCreate(ctx, t, source.Client, mgSourceObjects()...)
	pods := []struct {
		cp  *controlplane.ControlPlane
		pod *corev1.Pod
	}{
		{host, mgLogPod(mgNamespace, "migration-controller-0", "manager",
			map[string]string{"control-plane": "controller-manager", "app": "migration"},
			"reconciled MigPlan shop; Authorization: Bearer "+token+"; aws_secret_access_key="+mgS3SecretKey+"; key "+mgS3AccessKey)},
		{source, mgLogPod("shop", "ferry-rsync-0123456789-abc-0", transfer.ContainerRsync,
			transfer.Labels("dvm-uid"), "rsync started with "+mgS3SecretKey)},
		{source, mgLogPod("shop-hooks", "shop-prebackup-x1", "hook",
			map[string]string{hookPodLabel: "hook-uid", "phase": "PreBackup"}, "hook ran: password="+mgCloudPassword)},
		{source, mgLogPod(mgNamespace, "velero-5d8f", "velero",
			map[string]string{"component": "velero", "deploy": "velero"}, "velero server started")},
	}
	for _, p := range pods {
		mgCreate(ctx, t, p.cp.Client, p.pod)
	}
	for _, p := range pods {
		mgWaitForLog(ctx, t, p.cp, p.pod)
	}

	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := host.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "case")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"--kubeconfig", kubeconfig, "must-gather", "-o", dest, "--since", "1h", "--tail", "100"},
		strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("must-gather exited %d\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
	}
	t.Logf("stderr:\n%s", &stderr)
	path := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(path, dest+string(filepath.Separator)+"must-gather-") || !strings.HasSuffix(path, ".tar.gz") {
		t.Fatalf("printed path %q, want %s/must-gather-<time>.tar.gz", path, dest)
	}
	files, raw := mgReadArchive(t, path)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	t.Logf("archive:\n  %s", strings.Join(names, "\n  "))

	mgCheckArchiveFiles(t, files)
	mgCheckNoSecrets(t, raw, token)
}

// mgStartNode runs a process node for cp until the test ends.
func mgStartNode(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane) {
	t.Helper()
	n, err := node.Start(ctx, cp.Config, node.Options{Logf: t.Logf})
	if err != nil {
		t.Fatalf("start a node for %s: %v", cp.Name, err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("stop the node of %s: %v", cp.Name, err)
		}
	})
}

// mgHostObjects are the migration objects and Secrets on the host.
func mgHostObjects(source *controlplane.ControlPlane, token string) []client.Object {
	meta := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	ref := func(ns, name string) *corev1.ObjectReference {
		return &corev1.ObjectReference{Namespace: ns, Name: name}
	}
	cloud := "[default]\naws_access_key_id=" + mgS3AccessKey + "\naws_secret_access_key=" + mgS3SecretKey + "\npassword=" + mgCloudPassword + "\n"
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: mgNamespace}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: mgConfigNS}},
		&corev1.ServiceAccount{ObjectMeta: meta(mgNamespace, "default")},
		&corev1.Secret{ObjectMeta: meta(mgConfigNS, "source-token"), Data: map[string][]byte{migv1.SaTokenKey: []byte(token)}},
		&corev1.Secret{ObjectMeta: meta(mgConfigNS, "gone-token"), Data: map[string][]byte{migv1.SaTokenKey: []byte(mgGoneToken)}},
		&corev1.Secret{ObjectMeta: meta(mgConfigNS, "storage-creds"), Data: map[string][]byte{
			"aws-access-key-id": []byte(mgS3AccessKey), "aws-secret-access-key": []byte(mgS3SecretKey)}},
		&corev1.Secret{ObjectMeta: meta(mgNamespace, "cloud-credentials"), Data: map[string][]byte{"cloud": []byte(cloud)}},
		&migv1.MigCluster{ObjectMeta: meta(mgNamespace, "host"), Spec: migv1.MigClusterSpec{IsHostCluster: true}},
		&migv1.MigCluster{ObjectMeta: meta(mgNamespace, "source"), Spec: migv1.MigClusterSpec{URL: source.URL(),
			CABundle: source.CABundle(), ServiceAccountSecretRef: ref(mgConfigNS, "source-token")}},
		// Nothing listens on port 1: the gather must record the cluster and go on.
		&migv1.MigCluster{ObjectMeta: meta(mgNamespace, "gone"), Spec: migv1.MigClusterSpec{URL: "https://127.0.0.1:1",
			Insecure: true, ServiceAccountSecretRef: ref(mgConfigNS, "gone-token")}},
		&migv1.MigStorage{ObjectMeta: metav1.ObjectMeta{Namespace: mgNamespace, Name: "s3",
			Annotations: map[string]string{lastAppliedAnnotation: `{"kind":"Secret","stringData":{"aws-secret-access-key":"` + mgS3SecretKey + `"}}`}},
			Spec: migv1.MigStorageSpec{BackupStorageProvider: migv1.ProviderAWS, BackupStorageConfig: migv1.BackupStorageConfig{
				AwsBucketName: "mtc", AwsRegion: "us-east-1", CredsSecretRef: ref(mgConfigNS, "storage-creds")}}},
		&migv1.MigHook{ObjectMeta: meta(mgNamespace, "pre"), Spec: migv1.MigHookSpec{Custom: true, Image: "busybox",
			TargetCluster: migv1.HookTargetSource}},
		&migv1.MigPlan{ObjectMeta: meta(mgNamespace, "shop"), Spec: migv1.MigPlanSpec{
			Namespaces:       []string{"shop:shop-prod"},
			SrcMigClusterRef: ref(mgNamespace, "source"), DestMigClusterRef: ref(mgNamespace, "host"),
			MigStorageRef: ref(mgNamespace, "s3"),
			Hooks: []migv1.MigPlanHook{{Reference: ref(mgNamespace, "pre"), Phase: "PreBackup",
				ExecutionNamespace: "shop-hooks", ServiceAccount: "default"}},
		}},
		&migv1.MigMigration{ObjectMeta: meta(mgNamespace, "shop-stage-1"), Spec: migv1.MigMigrationSpec{
			MigPlanRef: ref(mgNamespace, "shop"), Stage: true}},
		&velerov1.BackupStorageLocation{ObjectMeta: meta(mgNamespace, "shop-bsl"), Spec: velerov1.BackupStorageLocationSpec{
			Provider: "aws", Config: map[string]string{"region": "us-east-1", "secretAccessKey": mgBSLSecret},
			StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "mtc"}}}},
		&corev1.Event{ObjectMeta: meta(mgNamespace, "shop.1"), Type: corev1.EventTypeWarning, Reason: "NotReady",
			InvolvedObject: corev1.ObjectReference{Kind: "MigPlan", Namespace: mgNamespace, Name: "shop"},
			Message:        "source rejected Bearer " + token},
	}
}

// mgSourceObjects are what a migration leaves on the source: namespaces, a Velero Backup and
// an Event.
func mgSourceObjects() []client.Object {
	var objs []client.Object
	for _, ns := range []string{"shop", "shop-hooks"} {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}})
	}
	objs = append(objs, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: mgNamespace, Name: "default"}})
	return append(objs,
		&velerov1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: mgNamespace, Name: "shop-stage-backup"},
			Spec: velerov1.BackupSpec{IncludedNamespaces: []string{"shop"}}},
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "rsync.1"}, Type: corev1.EventTypeNormal,
			Reason: "Started", InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "ferry-rsync"},
			Message: "rsync client started"},
	)
}

// mgLogPod is a pod on the process node whose one container prints line and stays up, with a
// credential-named literal env var.
func mgLogPod(ns, name, container string, labels map[string]string, line string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			NodeName:                      node.DefaultName,
			AutomountServiceAccountToken:  ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers: []corev1.Container{{Name: container, Image: "busybox",
				Command: []string{"/bin/sh", "-c", `echo "$LINE"; exec sleep 3600`},
				Env:     []corev1.EnvVar{{Name: "LINE", Value: line}, {Name: "API_TOKEN", Value: mgEnvToken}}}},
		},
	}
}

func mgCreate(ctx context.Context, t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, obj := range objs {
		if err := c.Create(ctx, obj); client.IgnoreAlreadyExists(err) != nil {
			t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
		}
	}
}

// mgWaitForLog waits until the pod's container has printed its line.
func mgWaitForLog(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, pod *corev1.Pod) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var lastErr error
	for {
		data, err := cp.Clientset.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name,
			&corev1.PodLogOptions{Container: pod.Spec.Containers[0].Name}).DoRaw(ctx)
		if err == nil && len(bytes.TrimSpace(data)) > 0 {
			return
		}
		lastErr = err
		select {
		case <-ctx.Done():
			t.Fatalf("no log from pod %s/%s on %s: %v", pod.Namespace, pod.Name, cp.Name, lastErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// mgReadArchive returns the files of the archive and its whole decompressed stream (headers
// included), where no secret may appear.
func mgReadArchive(t *testing.T, path string) (map[string]string, []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := files[hdr.Name]; dup {
			t.Errorf("%s is in the archive twice", hdr.Name)
		}
		files[hdr.Name] = string(data)
	}
	return files, raw
}

// mgCheckArchiveFiles checks the layout and the content that matters of the expected files.
func mgCheckArchiveFiles(t *testing.T, files map[string]string) {
	t.Helper()
	for name, wants := range map[string][]string{
		"host/openshift-migration/migplan/shop.yaml":              {"kind: MigPlan", "shop:shop-prod"},
		"host/openshift-migration/migcluster/source.yaml":         {"kind: MigCluster", "source-token"},
		"host/openshift-migration/migstorage/s3.yaml":             {lastAppliedAnnotation + ": <redacted"},
		"host/openshift-migration/mighook/pre.yaml":               {"targetCluster: source"},
		"host/openshift-migration/migmigration/shop-stage-1.yaml": {"stage: true"},
		"host/openshift-migration/backupstoragelocation/shop-bsl.yaml": {
			"region: us-east-1", "secretAccessKey: <redacted"},
		"host/openshift-migration/events.yaml":                   {"reason: NotReady", "Bearer <redacted>"},
		"host/openshift-config/secret/source-token.yaml":         {"saToken: <redacted"},
		"host/openshift-config/secret/storage-creds.yaml":        {"aws-secret-access-key: <redacted 34 bytes>"},
		"host/openshift-migration/secret/cloud-credentials.yaml": {"cloud: <redacted"},
		"host/openshift-migration/pods/migration-controller-0/pod.yaml": {"API_TOKEN", "<redacted 24 bytes>",
			"automountServiceAccountToken: false"},
		"host/openshift-migration/pods/migration-controller-0/manager.log": {
			"reconciled MigPlan shop", "Bearer <redacted>", "aws_secret_access_key=<redacted>"},
		"source/openshift-migration/backup/shop-stage-backup.yaml": {"kind: Backup"},
		"source/shop/events.yaml":                                  {"rsync client started"},
		"source/shop/pods/ferry-rsync-0123456789-abc-0/rsync.log":  {"rsync started with <redacted>"},
		"source/shop-hooks/pods/shop-prebackup-x1/hook.log":        {"hook ran: password=<redacted>"},
		"source/openshift-migration/pods/velero-5d8f/velero.log":   {"velero server started"},
		"errors.txt": {"gone: cluster not reached (https://127.0.0.1:1)"},
		"summary.txt": {"source/: MigCluster source (https://", "gone/: MigCluster gone (https://127.0.0.1:1): NOT REACHED",
			"source/shop/events.yaml", "source: Restores in openshift-migration: not permitted"},
	} {
		got, ok := files[name]
		if !ok {
			t.Errorf("%s is missing from the archive", name)
			continue
		}
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, got)
			}
		}
	}
	for name, data := range files {
		if strings.Contains(data, "managedFields") {
			t.Errorf("%s has managedFields", name)
		}
		if strings.HasPrefix(name, "gone/") {
			t.Errorf("%s: the unreachable cluster has files", name)
		}
	}
}

// mgCheckNoSecrets checks that no planted credential, in clear or base64, is in the archive.
func mgCheckNoSecrets(t *testing.T, raw []byte, token string) {
	t.Helper()
	for _, secret := range []string{token, mgS3AccessKey, mgS3SecretKey, mgGoneToken, mgBSLSecret, mgEnvToken, mgCloudPassword} {
		for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret))} {
			if i := bytes.Index(raw, []byte(form)); i >= 0 {
				t.Errorf("secret %q found in the archive: ...%s...", secret, raw[max(0, i-200):min(len(raw), i+len(form)+50)])
			}
		}
	}
}
