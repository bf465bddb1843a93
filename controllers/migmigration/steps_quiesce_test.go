package migmigration

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	appquiesce "github.com/ferrymtc/ferry/pkg/quiesce"
)

// TestUnquiesceLeavesAnotherPlansWorkloads: two plans share namespace shop, each migrating
// one PVC. Plan A's migration quiesced web (which mounts A's PVC), plan B's quiesced worker
// (which mounts B's). When A's migration is canceled or fails, it starts web again and must
// leave worker scaled down: B scaled it down for its own cutover. Both while B is open (the
// same scope as quiesce) and after B was closed (B's cutover is done, its source stays down).
func TestUnquiesceLeavesAnotherPlansWorkloads(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, migv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	plan := func(name, uid, pvc string, closed bool) *migv1.MigPlan {
		return &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: name, UID: types.UID(uid)},
			Spec: migv1.MigPlanSpec{Namespaces: []string{"shop"}, Closed: closed, PersistentVolumes: []migv1.PV{
				{PVC: migv1.PVC{Namespace: "shop", Name: pvc}, Selection: migv1.Selection{Action: migv1.PvCopyAction}}}}}
	}
	for _, tc := range []struct {
		name    string
		bClosed bool
	}{{"plan B open", false}, {"plan B closed after its cutover", true}} {
		t.Run(tc.name, func(t *testing.T) {
			planA, planB := plan("a", "uid-a", "a-data", false), plan("b", "uid-b", "b-data", tc.bClosed)
			host := fake.NewClientBuilder().WithScheme(scheme).WithObjects(planA, planB).Build()
			src := fake.NewClientBuilder().WithScheme(scheme).Build()
			ctx := context.Background()
			for _, d := range []struct{ name, claim string }{{"web", "a-data"}, {"worker", "b-data"}} {
				dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: d.name},
					Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
						Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
							PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: d.claim}}}}}}}}
				if err := src.Create(ctx, dep); err != nil {
					t.Fatal(err)
				}
			}
			scopeOf := func(p *migv1.MigPlan) *Scope {
				return &Scope{Migration: &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{UID: types.UID("m-" + string(p.UID))}},
					Plan: p, Host: host, Source: Remote{Client: src}, Now: time.Now}
			}
			// B quiesces first, then A (both while both plans are open).
			for _, p := range []*migv1.MigPlan{plan("b", "uid-b", "b-data", false), planA} {
				if _, err := quiesceSource(ctx, scopeOf(p)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := unquiesceSource(ctx, scopeOf(planA)); err != nil {
				t.Fatal(err)
			}
			replicas := func(name string) int32 {
				d := &appsv1.Deployment{}
				if err := src.Get(ctx, client.ObjectKey{Namespace: "shop", Name: name}, d); err != nil {
					t.Fatal(err)
				}
				return ptr.Deref(d.Spec.Replicas, 1)
			}
			if got := replicas("web"); got != 2 {
				t.Errorf("web (plan A's) has %d replicas after A's un-quiesce, want 2", got)
			}
			if got := replicas("worker"); got != 0 {
				t.Errorf("worker (quiesced by plan B) has %d replicas after plan A's un-quiesce, want 0", got)
			}
			worker := &appsv1.Deployment{}
			if err := src.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "worker"}, worker); err != nil {
				t.Fatal(err)
			}
			if worker.Annotations[appquiesce.AnnotationReplicas] != "2" {
				t.Errorf("worker lost plan B's bookkeeping: %v", worker.Annotations)
			}
		})
	}
}
