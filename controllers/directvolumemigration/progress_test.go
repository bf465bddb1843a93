package directvolumemigration

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// TestRecordedFailure: the verdict on a finished attempt, read back from its DVMP (the
// known-attempt branch of observeAttempt, which does not read the pod log again).
func TestRecordedFailure(t *testing.T) {
	exit := int32(23)
	nothingMoved := transfer.Failure{Kind: transfer.FailureNothingMoved, Message: "rsync copied nothing although the source volume holds 3 files and directories"}
	dvmp := func(verdicts ...verdict) *migv1.DirectVolumeMigrationProgress {
		d := &migv1.DirectVolumeMigrationProgress{}
		for _, v := range verdicts {
			recordVerdict(d, v.pod, v.failure, metav1.Now())
		}
		return d
	}
	for _, tc := range []struct {
		name     string
		phase    corev1.PodPhase
		known    migv1.RsyncPodStatus
		dvmp     *migv1.DirectVolumeMigrationProgress
		wantKind string // "" for no failure
	}{
		{"a success", corev1.PodSucceeded, migv1.RsyncPodStatus{PodName: "p-1"}, dvmp(), ""},
		{"a success that moved nothing", corev1.PodSucceeded, migv1.RsyncPodStatus{PodName: "p-1"},
			dvmp(verdict{"p-1", nothingMoved}), transfer.FailureNothingMoved},
		{"the verdict of another attempt", corev1.PodSucceeded, migv1.RsyncPodStatus{PodName: "p-2"},
			dvmp(verdict{"p-1", nothingMoved}), ""},
		{"a failed pod", corev1.PodFailed, migv1.RsyncPodStatus{PodName: "p-1", ExitCode: &exit, LogMessage: "rsync exited with code 23\nmore"},
			dvmp(), transfer.FailureRsync},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := recordedFailure(tc.phase, &tc.known, tc.dvmp)
			switch {
			case tc.wantKind == "" && f != nil:
				t.Errorf("failure %+v, want none", f)
			case tc.wantKind != "" && (f == nil || f.Kind != tc.wantKind):
				t.Errorf("failure %+v, want kind %s", f, tc.wantKind)
			}
		})
	}
}

type verdict struct {
	pod     string
	failure transfer.Failure
}

// TestNothingMovedSurvivesALostStatusWrite follows an attempt that exited 0 but moved
// nothing (the fake log holds no rsync statistics) twice: the first reconcile records the
// attempt in the DVMP, and its DVM status write is lost (operator crash, conflict, expired
// context), so the second reconcile starts from the operation as it was persisted before. It
// must still judge the PVC failed, never succeeded.
func TestNothingMovedSurvivesALostStatusWrite(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := migv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	d := dvm(nil)
	p := d.Spec.PersistentVolumeClaims[0]
	names := transfer.NamesFor(string(d.UID))
	started := metav1.NewTime(time.Now().Add(-time.Minute))
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: names.ClientPod(p.Name, 1), CreationTimestamp: started},
		Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{{
			Name: transfer.ContainerRsync, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, StartedAt: started, FinishedAt: metav1.Now()}},
		}}},
	}
	s := &Scope{DVM: d, Names: names, Now: time.Now}
	dvmp := &migv1.DirectVolumeMigrationProgress{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: s.progressKey(p).Name}}
	s.Host = fake.NewClientBuilder().WithScheme(scheme).WithObjects(dvmp).WithStatusSubresource(dvmp).Build()
	s.Source = &Remote{Cluster: &migv1.MigCluster{}, Client: fake.NewClientBuilder().WithScheme(scheme).WithObjects(pod).Build(),
		Logs: kubefake.NewClientset(pod)}

	persisted := migv1.RsyncOperation{PVCReference: &corev1.ObjectReference{Namespace: p.Namespace, Name: p.Name}, CurrentAttempt: 1}
	for _, reconcile := range []string{"first", "second, after the first one's DVM status was lost"} {
		op := persisted.DeepCopy()
		out, err := followOperation(context.Background(), s, p, op)
		if err != nil {
			t.Fatalf("%s reconcile: %v", reconcile, err)
		}
		if out.state != stateFailed || op.Succeeded || !op.Failed || out.kind != transfer.FailureNothingMoved {
			t.Errorf("%s reconcile: state %s, kind %q, operation %+v; want a NothingMoved failure", reconcile, out.state, out.kind, op)
		}
	}
	got := &migv1.DirectVolumeMigrationProgress{}
	if err := s.Host.Get(context.Background(), client.ObjectKeyFromObject(dvmp), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.PodName != pod.Name || got.Status.PodPhase != corev1.PodSucceeded {
		t.Errorf("the DVMP did not record the attempt: %+v", got.Status.RsyncPodStatus)
	}
}

// TestPatchStatusOutlivesTheReconcileContext: the status write at the end of a reconcile
// succeeds although the reconcile's context has expired (its steps used up the time): what
// the steps did is recorded, not lost.
func TestPatchStatusOutlivesTheReconcileContext(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := migv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	d := dvm(nil)
	host := fake.NewClientBuilder().WithScheme(scheme).WithObjects(d).WithStatusSubresource(d).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			if err := ctx.Err(); err != nil {
				return err // what a real API client does with a dead context
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		}}).Build()
	r := &Reconciler{HostDirect: host, Recorder: events.NewFakeRecorder(10)}
	current := &migv1.DirectVolumeMigration{}
	if err := host.Get(context.Background(), client.ObjectKeyFromObject(d), current); err != nil {
		t.Fatal(err)
	}
	before := current.DeepCopy()
	current.Status.Phase = RunRsyncOperations
	expired, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	if err := r.patchStatus(expired, before, current); err != nil {
		t.Fatalf("status write with the reconcile's expired context: %v", err)
	}
	got := &migv1.DirectVolumeMigration{}
	if err := host.Get(context.Background(), client.ObjectKeyFromObject(d), got); err != nil || got.Status.Phase != RunRsyncOperations {
		t.Errorf("phase %q, %v", got.Status.Phase, err)
	}
}
