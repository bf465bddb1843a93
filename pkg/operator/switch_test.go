package operator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// TestMigrationControllerSwitch runs the operator as users do on a cluster where it only runs
// Velero (MTC's source clusters): with migration_controller false, a MigHook gets no status
// while the MigrationController does; turning the switch on stops the manager with an error,
// so that the Deployment restarts it with every controller (as every other suite runs it; a
// second manager cannot run in this process, whose metrics registry the first one holds).
func TestMigrationControllerSwitch(t *testing.T) {
	cp := controlplane.StartForTest(t, "switch")
	const ns = "openshift-migration"
	ctx := t.Context()
	c := cp.Client
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migration-controller"},
		Spec: migv1.MigrationControllerSpec{MigrationController: ptr.To(false)}}
	must(c.Create(ctx, mc))
	hook := &migv1.MigHook{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hook"},
		Spec: migv1.MigHookSpec{Image: "quay.io/konveyor/hook-runner:latest", TargetCluster: "source", Custom: true}}
	must(c.Create(ctx, hook))

	run := func() (context.CancelFunc, <-chan error) {
		mgr, err := operator.New(cp.Config, operator.Options{Namespace: ns, MetricsAddr: "0", ProbeAddr: "0"})
		must(err)
		runCtx, cancel := context.WithCancel(ctx)
		must(operator.Setup(runCtx, mgr, operator.Options{Namespace: ns}))
		done := make(chan error, 1)
		go func() { done <- mgr.Start(runCtx) }()
		return cancel, done
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	cancel, done := run()
	eventually("the MigrationController's status", func() bool {
		got := &migv1.MigrationController{}
		must(c.Get(ctx, client.ObjectKeyFromObject(mc), got))
		r := conditions.Find(got.Status.Conditions, migv1.Running)
		return r != nil && r.Reason == migv1.Successful && got.Status.ObservedGeneration == got.Generation
	})
	time.Sleep(3 * time.Second) // the hook controller, if it ran, would have reported by now
	got := &migv1.MigHook{}
	must(c.Get(ctx, client.ObjectKeyFromObject(hook), got))
	if len(got.Status.Conditions) != 0 {
		t.Fatalf("with migration_controller false the MigHook got status %+v", got.Status.Conditions)
	}

	must(c.Get(ctx, client.ObjectKeyFromObject(mc), mc))
	mc.Spec.MigrationController = ptr.To(true)
	must(c.Update(ctx, mc))
	select {
	case err := <-done:
		if err == nil || !errors.Is(err, operator.ErrSwitchChanged) {
			t.Fatalf("the manager stopped with %v, want the switch's error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the manager kept running after migration_controller turned on")
	}
	cancel()
}
