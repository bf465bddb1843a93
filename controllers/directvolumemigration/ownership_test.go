package directvolumemigration

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

func TestMayWriteInto(t *testing.T) {
	const planUID, dvmUID = "plan-1", "uid-1"
	fromPlan := func(d *migv1.DirectVolumeMigration) { d.Labels = map[string]string{migratedByPlan: planUID} }
	optIn := func(d *migv1.DirectVolumeMigration) {
		d.Annotations = map[string]string{migv1.ReuseExistingDestinationPVCsAnnotation: "true"}
	}
	pvc := func(labels map[string]string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "data", Labels: labels}}
	}
	for _, tc := range []struct {
		name string
		dvm  *migv1.DirectVolumeMigration
		pvc  *corev1.PersistentVolumeClaim
		want bool
	}{
		{"a PVC nobody migrated", dvm(nil), pvc(map[string]string{"app": "other"}), false},
		{"a PVC without labels", dvm(fromPlan), pvc(nil), false},
		{"an earlier stage of the same plan", dvm(fromPlan), pvc(map[string]string{migratedByPlan: planUID}), true},
		{"a migration of another plan", dvm(fromPlan), pvc(map[string]string{migratedByPlan: "plan-2"}), false},
		{"this standalone DVM (a retried reconcile)", dvm(nil), pvc(map[string]string{transfer.LabelMigratedByDVM: dvmUID}), true},
		{"another standalone DVM", dvm(nil), pvc(map[string]string{transfer.LabelMigratedByDVM: "uid-2"}), false},
		{"a plan's DVM and a PVC of a standalone DVM", dvm(fromPlan), pvc(map[string]string{transfer.LabelMigratedByDVM: "uid-2"}), false},
		{"a standalone DVM and a plan's PVC", dvm(nil), pvc(map[string]string{migratedByPlan: planUID}), false},
		{"opted in", dvm(optIn), pvc(map[string]string{"app": "other"}), true},
		{"opt-in not \"true\"", dvm(func(d *migv1.DirectVolumeMigration) {
			d.Annotations = map[string]string{migv1.ReuseExistingDestinationPVCsAnnotation: "yes"}
		}), pvc(nil), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mayWriteInto(tc.dvm, tc.pvc); got != tc.want {
				t.Errorf("mayWriteInto = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCreateDestinationPVCsRefusesForeignPVCs runs the phase against a fake destination: an
// existing PVC of the same name that no migration of the DVM's plan created fails the DVM with
// a condition naming it, and nothing is created (not even the PVCs that were missing).
func TestCreateDestinationPVCsRefusesForeignPVCs(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	foreign := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "data", Labels: map[string]string{"app": "other"}}}
	source := func(name string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: name},
			Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	}
	twoPVCs := func(d *migv1.DirectVolumeMigration) {
		d.Spec.PersistentVolumeClaims = []migv1.PVCToMigrate{
			{ObjectReference: &corev1.ObjectReference{Namespace: "a", Name: "data"}, TargetNamespace: "b"},
			{ObjectReference: &corev1.ObjectReference{Namespace: "a", Name: "logs"}, TargetNamespace: "b"},
		}
	}
	for _, tc := range []struct {
		name    string
		mutate  func(*migv1.DirectVolumeMigration)
		refused bool
	}{
		{"without opt-in", twoPVCs, true},
		{"with opt-in", func(d *migv1.DirectVolumeMigration) {
			twoPVCs(d)
			d.Annotations = map[string]string{migv1.ReuseExistingDestinationPVCsAnnotation: "true"}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := fake.NewClientBuilder().WithScheme(scheme).WithObjects(foreign.DeepCopy()).Build()
			s := &Scope{
				DVM:         dvm(tc.mutate),
				Destination: &Remote{Cluster: &migv1.MigCluster{}, Client: dest},
				SourcePVCs:  map[string]*corev1.PersistentVolumeClaim{"a/data": source("data"), "a/logs": source("logs")},
				Now:         time.Now,
			}
			out, err := createDestinationPVCs(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			logs := &corev1.PersistentVolumeClaim{}
			logsErr := dest.Get(context.Background(), client.ObjectKey{Namespace: "b", Name: "logs"}, logs)
			kept := &corev1.PersistentVolumeClaim{}
			if err := dest.Get(context.Background(), client.ObjectKeyFromObject(foreign), kept); err != nil || kept.Labels["app"] != "other" {
				t.Fatalf("the existing PVC changed: %v %v", err, kept.Labels)
			}
			c := conditions.Find(s.DVM.Status.Conditions, migv1.DestinationPVCsNotOwned)
			if !tc.refused {
				if out.Fail != nil || !out.Done || c != nil || logsErr != nil {
					t.Fatalf("opted in: outcome %+v, condition %v, missing PVC created: %v", out, c, logsErr)
				}
				return
			}
			switch {
			case out.Fail == nil || out.Fail.Reason != migv1.DestinationPVCsNotOwned:
				t.Fatalf("outcome %+v, want a failure", out)
			case !strings.Contains(out.Fail.Message, "b/data") || strings.Contains(out.Fail.Message, "b/logs"):
				t.Errorf("failure message %q should name b/data only", out.Fail.Message)
			case c == nil || c.Category != migv1.CategoryCritical || !c.Durable || !strings.Contains(c.Message, "b/data") ||
				!strings.Contains(c.Message, migv1.ReuseExistingDestinationPVCsAnnotation):
				t.Errorf("condition %+v", c)
			case logsErr == nil:
				t.Errorf("the missing PVC b/logs was created although the DVM refused to run")
			}
		})
	}
}
