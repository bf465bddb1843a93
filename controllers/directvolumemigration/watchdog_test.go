package directvolumemigration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

func TestRefusal(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"a quota", fmt.Errorf("create *v1.Pod a/b: %w", apierrors.NewForbidden(pods, "rsync-x", errors.New("exceeded quota: no-new-pods"))),
			`pods "rsync-x" is forbidden: exceeded quota: no-new-pods`},
		{"an invalid pod", apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "rsync-x", field.ErrorList{field.Invalid(field.NewPath("spec"), "x", "bad")}),
			`Pod "rsync-x" is invalid: spec: Invalid value: "x": bad`},
		{"a lost connection is retried with backoff", errors.New("connection refused"), ""},
		{"a conflict too", apierrors.NewConflict(pods, "rsync-x", errors.New("changed")), ""},
		{"no error", nil, ""},
	} {
		if got := refusal(tc.err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestRefusedClientPodWaitsAndWarns: a client pod the source refuses is a warning with the
// API's message at once and a pending transfer that is tried again, not an error.
func TestRefusedClientPodWaitsAndWarns(t *testing.T) {
	refuse := true
	d := dvm(nil)
	names := transfer.NamesFor(string(d.UID))
	clientConfig := metav1.ObjectMeta{Namespace: "a", Name: names.Client()}
	source := fake.NewClientBuilder().WithObjects(&corev1.ConfigMap{ObjectMeta: clientConfig}, &corev1.Secret{ObjectMeta: clientConfig}).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if _, isPod := obj.(*corev1.Pod); isPod && refuse {
				return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, obj.GetName(), errors.New("exceeded quota: no-new-pods, requested: pods=1, used: pods=1, limited: pods=0"))
			}
			return c.Create(ctx, obj, opts...)
		},
	}).WithScheme(testScheme(t)).Build()
	host := fake.NewClientBuilder().WithScheme(testScheme(t)).Build()
	server := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: names.Server()}}
	destination := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(server).Build()
	s := newScopeForTest(source, destination, host)

	out, err := runRsyncOperations(context.Background(), s)
	if err != nil {
		t.Fatalf("a refused pod is an error: %v", err)
	}
	if out.Done || out.Fail != nil || out.RequeueAfter != refusedRetry {
		t.Errorf("outcome %+v, want a wait of %s", out, refusedRetry)
	}
	if out.Progress == nil || !strings.Contains(out.Progress.State, "pod refused") {
		t.Errorf("progress %+v, want the refusal in the watched state", out.Progress)
	}
	c := s.refusalCondition()
	if len(c) != 1 || c[0].Type != migv1.FailedCreatingRsyncPods || c[0].Category != migv1.CategoryWarn || !strings.Contains(c[0].Message, "exceeded quota: no-new-pods") {
		t.Fatalf("conditions %+v, want FailedCreatingRsyncPods with the API's message", c)
	}

	refuse = false
	s = newScopeForTest(source, destination, host)
	if _, err := runRsyncOperations(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if len(s.refusalCondition()) != 0 {
		t.Error("the warning stays once the pod is created")
	}
}

func TestDVMNoProgressCondition(t *testing.T) {
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := &itinerary.Stall{Phase: RunRsyncOperations, Watch: itinerary.Watch{Waiting: "the rsync transfers of 1 PVCs from the source cluster",
		State: "app/data: pending (attempt 1), pod refused: quota", Since: since}}
	c := conditions.NoProgress(st, itinerary.Limits{Warning: time.Minute, Timeout: time.Hour}, "DVM")
	if len(c) != 1 || c[0].Type != migv1.NoProgress || !strings.Contains(c[0].Message, "pod refused: quota") || !strings.Contains(c[0].Message, "fails at 2026-01-01T01:00:00Z") {
		t.Errorf("condition %+v", c)
	}
	blocker := conditions.Critical(migv1.PVCsNotFoundOnSourceCluster, "", "")
	blocker.LastTransitionTime = metav1.NewTime(since)
	failed := conditions.Critical(migv1.Failed, "", "")
	failed.LastTransitionTime = metav1.NewTime(since.Add(-time.Hour))
	if got := blockedSince(migv1.Conditions{failed, blocker}); !got.Equal(since) {
		t.Errorf("blocked since %s, want %s (Failed is not a block)", got, since)
	}
}

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := migv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return scheme
}

// newScopeForTest is the scope of DVM d (PVC a/data) at its first transfer attempt.
func newScopeForTest(source, destination, host client.Client) *Scope {
	d := dvm(nil)
	d.Status.RsyncOperations = []*migv1.RsyncOperation{{PVCReference: &corev1.ObjectReference{Namespace: "a", Name: "data"}, CurrentAttempt: 1}}
	return &Scope{DVM: d, Names: transfer.NamesFor(string(d.UID)), Now: time.Now, Host: host,
		Source:      &Remote{Cluster: &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: "src"}}, Client: source},
		Destination: &Remote{Cluster: &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: "dst"}}, Client: destination},
		Settings:    settings.Defaults()}
}
