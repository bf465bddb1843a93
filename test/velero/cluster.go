package velero

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

const (
	// LocationName is the BackupStorageLocation Start creates; Velero uses it by default.
	LocationName = "default"
	// credentialsSecret and credentialsKey hold the S3 credentials the BackupStorageLocation
	// refers to, in the AWS shared-credentials format.
	credentialsSecret = "cloud-credentials"
	credentialsKey    = "cloud"
	// deploymentName is the Deployment Velero reads its own image from (for restore helpers).
	deploymentName = "velero"
	// placeholderImage is the image the placeholder Deployment names; it never runs.
	placeholderImage = "velero/velero:v1.18.3"
	// apiTimeout bounds each API call the harness makes.
	apiTimeout = 30 * time.Second
)

// newScheme returns a scheme with the core Kubernetes and Velero v1 types.
func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, velerov1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	return s, nil
}

// prepareCluster creates or updates what a Velero server needs in its namespace: the
// namespace, a placeholder Deployment, the S3 credentials and the BackupStorageLocation.
func prepareCluster(ctx context.Context, c client.Client, opts Options) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opts.Namespace}}
	if err := apply(ctx, c, ns, func() {}); err != nil {
		return err
	}

	// Velero reads the image of its own Deployment for restore helpers; without one, restores
	// end PartiallyFailed. Zero replicas: the real server runs outside the cluster.
	labels := map[string]string{"component": "velero", "deploy": "velero"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: deploymentName, Namespace: opts.Namespace}}
	if err := apply(ctx, c, dep, func() {
		dep.Labels = labels
		dep.Spec.Replicas = ptr.To[int32](0)
		dep.Spec.Selector = &metav1.LabelSelector{MatchLabels: labels}
		dep.Spec.Template.Labels = labels
		dep.Spec.Template.Spec.Containers = []corev1.Container{{Name: "velero", Image: placeholderImage}}
	}); err != nil {
		return err
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: credentialsSecret, Namespace: opts.Namespace}}
	if err := apply(ctx, c, secret, func() {
		secret.Data = map[string][]byte{credentialsKey: fmt.Appendf(nil,
			"[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n", opts.S3.AccessKey, opts.S3.SecretKey)}
	}); err != nil {
		return err
	}

	bsl := &velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Name: LocationName, Namespace: opts.Namespace}}
	return apply(ctx, c, bsl, func() {
		bsl.Spec = velerov1.BackupStorageLocationSpec{
			Provider: "aws",
			StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{
				Bucket: opts.Bucket,
				Prefix: opts.Prefix,
				CACert: opts.S3.CABundle,
			}},
			Config: map[string]string{
				"region":           opts.S3.Region,
				"s3ForcePathStyle": "true",
				"s3Url":            opts.S3.Endpoint,
			},
			Credential: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: credentialsSecret},
				Key:                  credentialsKey,
			},
			Default:    true,
			AccessMode: velerov1.BackupStorageLocationAccessModeReadWrite,
		}
		// Velero's CRDs have no status subresource, so the status is written with the object.
		// Available from the start: the backup sync skips a location until it is Available.
		// No lastValidationTime: Start waits for the server to validate the location itself.
		bsl.Status = velerov1.BackupStorageLocationStatus{Phase: velerov1.BackupStorageLocationPhaseAvailable}
	})
}

// apply creates obj or updates it with mutate applied, under a bounded context.
func apply(ctx context.Context, c client.Client, obj client.Object, mutate func()) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if _, err := controllerutil.CreateOrUpdate(ctx, c, obj, func() error { mutate(); return nil }); err != nil {
		return fmt.Errorf("create or update %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// errUnavailable says the Velero server validated the BackupStorageLocation and found it
// Unavailable: its message says why (wrong credentials, missing bucket, ...).
var errUnavailable = errors.New("the Velero server found the BackupStorageLocation Unavailable")

// locationValidated reports whether the Velero server has validated the BackupStorageLocation
// (it sets lastValidationTime on every check) and found it Available, or errUnavailable when it
// found it Unavailable.
func locationValidated(ctx context.Context, c client.Client, namespace string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	bsl := &velerov1.BackupStorageLocation{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: LocationName}, bsl); err != nil {
		return false, fmt.Errorf("get BackupStorageLocation %s/%s: %w", namespace, LocationName, err)
	}
	st := bsl.Status
	if st.LastValidationTime == nil {
		return false, nil
	}
	if st.Phase != velerov1.BackupStorageLocationPhaseAvailable {
		return false, fmt.Errorf("%w: phase %q: %s", errUnavailable, st.Phase, st.Message)
	}
	return true, nil
}
