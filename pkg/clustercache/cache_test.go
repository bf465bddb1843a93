package clustercache_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// TestCacheAgainstARealCluster checks what the operator relies on: a remote client built from
// a MigCluster's token works, is reused while nothing changes, is rebuilt when the token in
// the Secret rotates, and reads through an informer cache when the setting asks for it.
func TestCacheAgainstARealCluster(t *testing.T) {
	remote, ctx, secret, cluster := startRemote(t, "remote")
	var cached atomic.Bool
	cache := clustercache.New(clustercache.Options{
		SecretReader:     remote.Client,
		Scheme:           remote.Client.Scheme(),
		UseInformerCache: func(context.Context) bool { return cached.Load() },
		Log:              logr.Discard(),
	})

	first := mustGet(ctx, t, cache, cluster)
	if err := first.Get(ctx, client.ObjectKey{Name: "openshift-migration"}, &corev1.Namespace{}); err != nil {
		t.Fatalf("the remote client cannot read: %v", err)
	}
	if again := mustGet(ctx, t, cache, cluster); again != first {
		t.Error("an unchanged cluster must reuse its client")
	}

	rotated, err := remote.MintToken(ctx, "openshift-migration", "migration-controller", "cluster-admin")
	if err != nil {
		t.Fatal(err)
	}
	secret.Data[migv1.SaTokenKey] = []byte(rotated)
	if err := remote.Client.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if after := mustGet(ctx, t, cache, cluster); after == first {
		t.Error("a rotated token must give a new client")
	}

	cached.Store(true)
	viaInformers := mustGet(ctx, t, cache, cluster)
	if err := remote.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "late"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for viaInformers.Get(ctx, client.ObjectKey{Name: "late"}, &corev1.Namespace{}) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the informer-backed client never saw the new namespace")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if cache.Len() != 1 {
		t.Errorf("Len = %d, want one entry for the one cluster", cache.Len())
	}
	cache.Forget(client.ObjectKeyFromObject(cluster))
	if cache.Len() != 0 {
		t.Error("Forget must drop the entry and stop its informers")
	}
}

// startRemote starts a control plane, and returns it, a context bounded for the test, and a
// MigCluster of it whose token Secret holds a cluster-admin token. The Secret and the
// MigCluster live on the same control plane, which is enough for the cache (it only needs a
// reader for the Secret).
func startRemote(t *testing.T, name string) (*controlplane.ControlPlane, context.Context, *corev1.Secret, *migv1.MigCluster) {
	t.Helper()
	remote, err := controlplane.Start(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = remote.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	token, err := remote.MintToken(ctx, "openshift-migration", "migration-controller", "cluster-admin")
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "token"},
		Data: map[string][]byte{migv1.SaTokenKey: []byte(token)}}
	if err := remote.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	cluster := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: name},
		Spec: migv1.MigClusterSpec{URL: remote.URL(), CABundle: remote.CABundle(),
			ServiceAccountSecretRef: &corev1.ObjectReference{Namespace: "openshift-migration", Name: "token"}}}
	return remote, ctx, secret, cluster
}

func mustGet(ctx context.Context, t *testing.T, cache *clustercache.Cache, cluster *migv1.MigCluster) client.Client {
	t.Helper()
	c, err := cache.Get(ctx, cluster)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return c
}
