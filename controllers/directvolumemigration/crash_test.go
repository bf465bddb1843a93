package directvolumemigration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// succeededLog is the end of a client's log after a copy that moved a few files.
const succeededLog = transfer.EntriesMarker + " 4\n" +
	"Number of files: 4 (reg: 3, dir: 1)\nNumber of created files: 3\nNumber of regular files transferred: 3\n" +
	"Total file size: 30 bytes\nTotal transferred file size: 30 bytes\n"

// transferWorld is a DVM whose single client pod has just succeeded, with every transfer
// resource in place: the state a reconcile at RunRsyncOperations finds at the end of a copy.
type transferWorld struct {
	dvm                *migv1.DirectVolumeMigration
	host, source, dest client.Client
	logs               *kubefake.Clientset
	names              transfer.Names
}

func newTransferWorld(t *testing.T) *transferWorld {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := migv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	d := dvm(func(d *migv1.DirectVolumeMigration) {
		d.Status.Itinerary, d.Status.Phase = VolumeMigrationItinerary, RunRsyncOperations
		d.Status.RsyncOperations = []*migv1.RsyncOperation{{
			PVCReference: &corev1.ObjectReference{Namespace: "a", Name: "data"}, CurrentAttempt: 1}}
	})
	p := d.Spec.PersistentVolumeClaims[0]
	names := transfer.NamesFor(string(d.UID))
	labels := func(extra map[string]string) map[string]string {
		l := transfer.Labels(string(d.UID))
		for k, v := range extra {
			l[k] = v
		}
		return l
	}
	started := metav1.NewTime(time.Now().Add(-time.Minute))
	clientPod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: names.ClientPod(p.Name, 1), CreationTimestamp: started,
			Labels: labels(map[string]string{transfer.LabelAttempt: "1"})},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: names.Client()}}}},
			{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: names.Client()}}},
		}},
		Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{{
			Name: transfer.ContainerRsync, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, StartedAt: started, FinishedAt: metav1.Now()}},
		}}},
	}
	server := labels(map[string]string{transfer.LabelPurpose: transfer.PurposeRsync})
	w := &transferWorld{dvm: d, names: names}
	w.source = fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}},
		clientPod,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: names.Client(), Labels: labels(nil)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: names.Client(), Labels: labels(nil)}},
	).Build()
	w.dest = fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: names.Server(), Labels: server},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: names.Server(), Labels: server}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: names.Server(), Labels: server}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: names.Server(), Labels: server}},
	).Build()
	s := &Scope{DVM: d, Names: names}
	dvmp := &migv1.DirectVolumeMigrationProgress{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: s.progressKey(p).Name}}
	w.host = fake.NewClientBuilder().WithScheme(scheme).WithObjects(dvmp,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: names.Credentials()}},
	).WithStatusSubresource(dvmp).Build()
	w.logs = kubefake.NewClientset()
	w.logs.PrependReactor("get", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "log" {
			return false, nil, nil
		}
		return true, &runtime.Unknown{Raw: []byte(succeededLog)}, nil
	})
	return w
}

// reconcile runs one reconcile's itinerary step on a copy of persisted, as the controller
// does after reading the DVM, and returns the DVM as that reconcile would write it.
func (w *transferWorld) reconcile(t *testing.T, persisted *migv1.DirectVolumeMigration) *migv1.DirectVolumeMigration {
	t.Helper()
	d := persisted.DeepCopy()
	r := &Reconciler{itineraries: Itineraries(), Clock: clock.RealClock{}}
	s := &Scope{DVM: d, Host: w.host, Names: w.names, Now: time.Now,
		Source:      &Remote{Cluster: &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: "src"}}, Client: w.source, Logs: w.logs},
		Destination: &Remote{Cluster: &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: "dst"}}, Client: w.dest, Logs: w.logs},
	}
	if _, err := r.run(context.Background(), s, nil); err != nil {
		t.Fatalf("reconcile at %s: %v", persisted.Status.Phase, err)
	}
	return d
}

// orphanedClientPods lists the client pods whose ConfigMap or Secret is missing: they can
// never start (ContainerCreating for ever on a real kubelet).
func (w *transferWorld) orphanedClientPods(t *testing.T) []string {
	t.Helper()
	pods := &corev1.PodList{}
	if err := w.source.List(context.Background(), pods); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, pod := range pods.Items {
		for _, v := range pod.Spec.Volumes {
			var obj client.Object
			switch {
			case v.ConfigMap != nil:
				obj = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: v.ConfigMap.Name}}
			case v.Secret != nil:
				obj = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: v.Secret.SecretName}}
			default:
				continue
			}
			if err := w.source.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
				out = append(out, fmt.Sprintf("%s (%T %s: %v)", pod.Name, obj, obj.GetName(), err))
			}
		}
	}
	return out
}

// TestTheEndOfACopySurvivesALostStatusWrite: the operator dies (or its status write fails)
// after some reconcile near the end of a copy, so that reconcile's DVM status is lost while
// what it did on the clusters stays. Whichever write is lost, the DVM must still complete
// without errors and never create a client pod whose configuration is gone: such a pod waits
// for ever (issue #19: "0 running, 1 pending", configmap "ferry-rsync-client-<hash>" not
// found, after the operator was killed during WaitForDirectVolumeMigrationToComplete).
func TestTheEndOfACopySurvivesALostStatusWrite(t *testing.T) {
	for lost := 1; lost <= 4; lost++ {
		t.Run(fmt.Sprintf("status write %d lost", lost), func(t *testing.T) {
			w := newTransferWorld(t)
			persisted := w.dvm.DeepCopy()
			var phases []string
			for i := 1; i <= 12 && persisted.Status.Phase != itinerary.Completed; i++ {
				written := w.reconcile(t, persisted)
				phases = append(phases, persisted.Status.Phase+"→"+written.Status.Phase)
				if orphans := w.orphanedClientPods(t); len(orphans) > 0 {
					t.Fatalf("reconcile %d (%s) left client pods without their configuration: %v (phases %v)",
						i, phases[len(phases)-1], orphans, phases)
				}
				if i != lost {
					persisted = written
				}
			}
			if persisted.Status.Phase != itinerary.Completed || len(persisted.Status.Errors) > 0 {
				t.Fatalf("phase %s, errors %v after %v; want Completed without errors", persisted.Status.Phase, persisted.Status.Errors, phases)
			}
			left, err := deleteLabelled(context.Background(), string(w.dvm.UID), places(
				&Remote{Client: w.source}, &Remote{Client: w.dest}, []string{"a"}, []string{"a"}))
			if err != nil || left > 0 {
				t.Errorf("%d transfer resources left (%v) after %v", left, err, phases)
			}
		})
	}
}

// TestAClientWhoseConfigurationIsGoneFailsTheVolume: whatever deleted a source namespace's
// client ConfigMap while its transfer ran (before the attempt's pod exists, or while the pod
// waits to start), the DVM must not sit at RunRsyncOperations with a pod that can never
// start: it fails the volume with a message naming what is missing.
func TestAClientWhoseConfigurationIsGoneFailsTheVolume(t *testing.T) {
	for _, tc := range []struct {
		name       string
		podPending bool
	}{{"before the attempt's pod is created", false}, {"while the attempt's pod waits", true}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newTransferWorld(t)
			bg := context.Background()
			pod := &corev1.Pod{}
			key := client.ObjectKey{Namespace: "a", Name: w.names.ClientPod("data", 1)}
			if err := w.source.Get(bg, key, pod); err != nil {
				t.Fatal(err)
			}
			if err := w.source.Delete(bg, pod); err != nil {
				t.Fatal(err)
			}
			if tc.podPending {
				pod.ResourceVersion, pod.Status = "", corev1.PodStatus{Phase: corev1.PodPending}
				if err := w.source.Create(bg, pod); err != nil {
					t.Fatal(err)
				}
			}
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: w.names.Client()}}
			if err := w.source.Delete(bg, cm); err != nil {
				t.Fatal(err)
			}
			persisted := w.dvm.DeepCopy()
			for i := 0; i < 6 && persisted.Status.Phase != itinerary.Completed; i++ {
				persisted = w.reconcile(t, persisted)
			}
			if persisted.Status.Phase != itinerary.Completed || len(persisted.Status.Errors) != 1 ||
				!strings.Contains(persisted.Status.Errors[0], "ConfigMap a/"+w.names.Client()) {
				t.Fatalf("phase %s, errors %v; want the DVM failed, naming the missing ConfigMap", persisted.Status.Phase, persisted.Status.Errors)
			}
			if orphans := w.orphanedClientPods(t); len(orphans) > 0 {
				t.Errorf("client pods without their configuration left: %v", orphans)
			}
		})
	}
}

// TestALostServerPodIsCreatedAgain: the rsync server pod of a destination namespace is gone
// (evicted, its node lost) while clients copy: the next reconcile creates it again, so the
// clients' next attempts reach it instead of failing until the back-off limit.
func TestALostServerPodIsCreatedAgain(t *testing.T) {
	w := newTransferWorld(t)
	bg := context.Background()
	server := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: w.names.Server()}}
	if err := w.dest.Delete(bg, server); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{}
	if err := w.source.Get(bg, client.ObjectKey{Namespace: "a", Name: w.names.ClientPod("data", 1)}, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning}
	if err := w.source.Status().Update(bg, pod); err != nil {
		t.Fatal(err)
	}
	written := w.reconcile(t, w.dvm)
	if written.Status.Phase != RunRsyncOperations {
		t.Fatalf("phase %s, errors %v", written.Status.Phase, written.Status.Errors)
	}
	got := &corev1.Pod{}
	if err := w.dest.Get(bg, client.ObjectKeyFromObject(server), got); err != nil {
		t.Fatalf("the server pod was not created again: %v", err)
	}
	if got.Labels[transfer.LabelDVM] != string(w.dvm.UID) || len(got.Spec.Containers) != 2 {
		t.Errorf("the new server pod is not the DVM's rsync server: labels %v, %d containers", got.Labels, len(got.Spec.Containers))
	}
}
