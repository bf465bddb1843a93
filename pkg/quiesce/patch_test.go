package quiesce_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/ferrymtc/ferry/pkg/quiesce"
)

func deploymentOf(name string, replicas int32, ann map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: ann},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Selector: selector(name), Template: template(name)}}
}

// TestConcurrentEditIsNotOverwritten: the user scales the Deployment between quiesce's read
// and its write. The write conflicts, quiesce reads again and records the user's count, not
// the stale one.
func TestConcurrentEditIsNotOverwritten(t *testing.T) {
	ctx := context.Background()
	edited := false
	base := fake.NewClientBuilder().WithObjects(deploymentOf("web", 3, nil)).
		WithInterceptorFuncs(interceptor.Funcs{
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				if !edited {
					edited = true
					user := &appsv1.Deployment{}
					if err := c.Get(ctx, client.ObjectKeyFromObject(obj), user); err != nil {
						return err
					}
					user.Spec.Replicas = ptr.To[int32](5)
					if err := c.Update(ctx, user); err != nil {
						return err
					}
				}
				return c.Patch(ctx, obj, patch, opts...)
			},
		}).Build()
	rep, err := quiesce.Quiesce(ctx, base, quiesce.Options{Namespaces: []string{"ns"}})
	if err != nil || !slices.Equal(rep.Changed, []string{"Deployment ns/web: 5 → 0"}) {
		t.Fatalf("quiesce: %v %v", rep.Changed, err)
	}
	got := &appsv1.Deployment{}
	if err := base.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "web"}, got); err != nil {
		t.Fatal(err)
	}
	if got.Annotations[quiesce.AnnotationReplicas] != "5" || *got.Spec.Replicas != 0 {
		t.Errorf("recorded %q, replicas %d; want 5 recorded and 0", got.Annotations[quiesce.AnnotationReplicas], *got.Spec.Replicas)
	}
}

// TestOneFailureDoesNotStopTheOthers: a broken annotation on one Deployment is reported with
// its name, and the other Deployment is still restored. An object deleted between the list
// and the write is skipped silently.
func TestOneFailureDoesNotStopTheOthers(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().WithObjects(
		deploymentOf("broken", 0, map[string]string{quiesce.AnnotationReplicas: "many"}),
		deploymentOf("gone", 0, map[string]string{quiesce.AnnotationReplicas: "1"}),
		deploymentOf("web", 0, map[string]string{quiesce.AnnotationReplicas: "2"}),
	).WithInterceptorFuncs(interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			if obj.GetName() == "gone" {
				if err := c.Delete(ctx, obj.DeepCopyObject().(client.Object)); err != nil {
					return err
				}
			}
			return c.Patch(ctx, obj, patch, opts...)
		},
	}).Build()
	rep, err := quiesce.Unquiesce(ctx, c, quiesce.Options{Namespaces: []string{"ns"}})
	if err == nil || !strings.Contains(err.Error(), "unquiesce Deployment ns/broken: annotation "+quiesce.AnnotationReplicas+`="many" is not a count`) {
		t.Errorf("error %v, want one naming ns/broken", err)
	}
	if !slices.Equal(rep.Changed, []string{"Deployment ns/web: 0 → 2"}) {
		t.Errorf("changed %v", rep.Changed)
	}
}
