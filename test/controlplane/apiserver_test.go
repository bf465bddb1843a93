package controlplane

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestStopAndStartAPIServer: while the API server is stopped, requests fail; once started
// again it serves the same data at the same address with the same credentials, twice over.
func TestStopAndStartAPIServer(t *testing.T) {
	cp := StartForTest(t, "outage")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kept"}, Data: map[string]string{"k": "v"}}
	if err := cp.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ {
		if err := cp.StopAPIServer(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		short, cancelShort := context.WithTimeout(ctx, 5*time.Second)
		err := cp.Client.Get(short, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{})
		cancelShort()
		if err == nil {
			t.Fatalf("round %d: the stopped API server answered", round)
		}
		if err := cp.StartAPIServer(ctx); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		got := &corev1.ConfigMap{}
		if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(cm), got); err != nil || got.Data["k"] != "v" {
			t.Fatalf("round %d: after the restart: %v, %v", round, got.Data, err)
		}
	}
}
