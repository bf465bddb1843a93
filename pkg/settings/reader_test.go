package settings_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// TestForDestinationAgainstARealCluster: rsync_endpoint_type and cluster_subdomain are set on
// the destination cluster (seed §11.3.3.2.3). A destination's own MigrationController wins over
// the host's for those two settings and no others; a destination without one, or whose API
// server does not serve the kind, keeps the host's.
func TestForDestinationAgainstARealCluster(t *testing.T) {
	dest, err := controlplane.Start("destination")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dest.Stop() }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ns = "openshift-migration"
	if err := dest.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	host := settings.FromSpec(&migv1.MigrationControllerSpec{RsyncEndpointType: migv1.RsyncEndpointRoute,
		ClusterSubdomain: "apps.host.example", StunnelTCPProxy: "http://proxy:3128"})
	reader := settings.NewReader(nil, ns)

	check := func(what string, wantType migv1.RsyncEndpointType, wantDomain string) {
		t.Helper()
		got, err := reader.ForDestination(ctx, host, dest.Client)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got.RsyncEndpointType != wantType || got.ClusterSubdomain != wantDomain || got.StunnelTCPProxy != host.StunnelTCPProxy {
			t.Errorf("%s: endpoint %s, subdomain %q, proxy %q; want %s, %q and the host's proxy",
				what, got.RsyncEndpointType, got.ClusterSubdomain, got.StunnelTCPProxy, wantType, wantDomain)
		}
	}
	check("no MigrationController on the destination", migv1.RsyncEndpointRoute, "apps.host.example")

	other := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "another"},
		Spec: migv1.MigrationControllerSpec{RsyncEndpointType: migv1.RsyncEndpointClusterIP}}
	own := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: settings.PreferredName},
		Spec: migv1.MigrationControllerSpec{RsyncEndpointType: migv1.RsyncEndpointNodePort, StunnelTCPProxy: "http://elsewhere:1"}}
	for _, mc := range []*migv1.MigrationController{other, own} {
		if err := dest.Client.Create(ctx, mc); err != nil {
			t.Fatal(err)
		}
	}
	check("the destination's migration-controller sets NodePort", migv1.RsyncEndpointNodePort, "apps.host.example")

	own.Spec.ClusterSubdomain = "apps.destination.example"
	if err := dest.Client.Update(ctx, own); err != nil {
		t.Fatal(err)
	}
	check("the destination names its own router domain", migv1.RsyncEndpointNodePort, "apps.destination.example")

	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	crd.SetName("migrationcontrollers.migration.openshift.io")
	if err := dest.Client.Delete(ctx, crd); err != nil {
		t.Fatal(err)
	}
	// The client may keep the kind's mapping: the API server then answers 404, and a fresh
	// mapper finds no kind; both mean "not set here".
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := dest.Client.Get(ctx, client.ObjectKeyFromObject(crd), crd.DeepCopy())
		return client.IgnoreNotFound(err) == nil && err != nil, nil
	})
	if err != nil {
		t.Fatalf("the CRD was not removed: %v", err)
	}
	check("the destination does not serve MigrationControllers", migv1.RsyncEndpointRoute, "apps.host.example")
}
