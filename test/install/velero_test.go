package install

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/hack/images"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/pkg/velerodeploy"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/node"
	"github.com/ferrymtc/ferry/test/registry"
	"github.com/ferrymtc/ferry/test/s3"
)

// TestDeployVelero installs Ferry as an admin would to have it run Velero (config/default,
// config/velero, a MigrationController with migration_velero and the Velero images of the
// cluster's registry, built from the pinned release by hack/images). The operator rolls out
// Velero's Deployment; the process node runs /velero server from the image with the AWS
// plugin its init container copied; that Velero validates a storage location on the S3 server
// and completes a Backup into it.
func TestDeployVelero(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the process node needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	ns := operator.DefaultNamespace
	opImage, err := OperatorImage(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := images.New(ctx, images.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	veleroImage, err := b.Build(ctx, images.Velero)
	if err != nil {
		t.Fatal(err)
	}
	pluginImage, err := b.Build(ctx, images.VeleroPlugin)
	if err != nil {
		t.Fatal(err)
	}
	store, err := s3.Start(s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Stop() })
	const bucket = "velero"
	if err := store.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	cp := controlplane.StartForTest(t, "install-velero", controlplane.WithControllerManager(), controlplane.WithScheduler())
	reg := registry.StartForTest(ctx, t, cp, registry.Options{})
	storePorts, err := Ports(store.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Start(ctx, cp.Config, node.Options{Logf: t.Logf, Images: reg, LoopbackPorts: storePorts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	c := cp.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	ref, err := PushOperatorImage(ctx, opImage, reg)
	if err != nil {
		t.Fatal(err)
	}
	op, err := Deploy(ctx, cp, n, ref)
	if err != nil {
		t.Fatal(err)
	}
	veleroObjs, err := Build("config/velero")
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(ctx, c, veleroObjs); err != nil {
		t.Fatal(err)
	}
	veleroDigest, err := reg.Push(ctx, "velero/velero", "v1.18.3", veleroImage)
	if err != nil {
		t.Fatal(err)
	}
	pluginDigest, err := reg.Push(ctx, "velero/velero-plugin-for-aws", "v1.14.3", pluginImage)
	if err != nil {
		t.Fatal(err)
	}
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migration-controller"},
		Spec: migv1.MigrationControllerSpec{
			MigrationVelero:     ptr.To(true),
			VeleroImageFqin:     registry.InternalHost + "/velero/velero@" + veleroDigest,
			VeleroAWSPluginFqin: registry.InternalHost + "/velero/velero-plugin-for-aws@" + pluginDigest,
		}}
	if err := c.Create(ctx, mc); err != nil {
		t.Fatal(err)
	}
	report := func() {
		got := &migv1.MigrationController{}
		_ = c.Get(ctx, client.ObjectKeyFromObject(mc), got)
		t.Logf("MigrationController conditions: %+v", got.Status.Conditions)
		t.Logf("operator log:\n%s", op.LogTail(ctx, 3000))
	}
	err = wait.PollUntilContextTimeout(ctx, time.Second, 4*time.Minute, true, func(ctx context.Context) (bool, error) {
		got := &migv1.MigrationController{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(mc), got); err != nil {
			return false, err
		}
		ready := conditions.Find(got.Status.Conditions, migv1.VeleroReady)
		return ready != nil && ready.Reason == migv1.Deployed, nil
	})
	if err != nil {
		report()
		t.Fatalf("Velero never became ready: %v", err)
	}

	// Velero itself proves it runs: it validates a storage location on the S3 server (through
	// the AWS plugin its init container copied) and completes a Backup into it.
	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s3-credentials"},
		StringData: map[string]string{"cloud": fmt.Sprintf("[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n", store.AccessKey, store.SecretKey)}}
	if err := c.Create(ctx, creds); err != nil {
		t.Fatal(err)
	}
	bsl := &velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"},
		Spec: velerov1.BackupStorageLocationSpec{
			Provider: "aws", Default: true,
			StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: bucket}},
			Config:      map[string]string{"region": s3.DefaultRegion, "s3ForcePathStyle": "true", "s3Url": store.Endpoint},
			Credential:  &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: creds.Name}, Key: "cloud"},
		}}
	if err := c.Create(ctx, bsl); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(bsl), bsl); err != nil {
			return false, err
		}
		return bsl.Status.Phase == velerov1.BackupStorageLocationPhaseAvailable && bsl.Status.LastValidationTime != nil, nil
	})
	if err != nil {
		report()
		t.Fatalf("Velero never validated the storage location (%+v): %v", bsl.Status, err)
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "settings"}, Data: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	backup := &velerov1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: velerov1.BackupSpec{IncludedNamespaces: []string{"app"}, StorageLocation: bsl.Name}}
	if err := c.Create(ctx, backup); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, time.Second, 4*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(backup), backup); err != nil {
			return false, err
		}
		switch backup.Status.Phase {
		case velerov1.BackupPhaseCompleted:
			return true, nil
		case velerov1.BackupPhaseFailed, velerov1.BackupPhaseFailedValidation, velerov1.BackupPhasePartiallyFailed:
			return false, fmt.Errorf("backup %s: %s %v", backup.Status.Phase, backup.Status.FailureReason, backup.Status.ValidationErrors)
		}
		return false, nil
	})
	if err != nil {
		_ = c.Get(ctx, client.ObjectKeyFromObject(bsl), bsl)
		t.Logf("storage location: %+v", bsl.Status)
		report()
		t.Fatalf("the Backup did not complete: %v", err)
	}
	objects, err := store.Objects(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	if !containsPrefix(objects, "backups/app/") {
		t.Errorf("the bucket holds no backups/app/: %v", objects)
	}

	// Its Deployment is the operator's, from the images of the MigrationController.
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: velerodeploy.Name}, d); err != nil {
		t.Fatal(err)
	}
	if d.Labels[velerodeploy.ManagedByLabel] != velerodeploy.ManagedBy || d.Spec.Template.Spec.Containers[0].Image != mc.Spec.VeleroImageFqin {
		t.Errorf("Velero's Deployment is not the operator's from the MigrationController's image: labels %v, image %s",
			d.Labels, d.Spec.Template.Spec.Containers[0].Image)
	}
}

func containsPrefix(list []string, prefix string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, prefix) })
}
