package directvolumemigration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// progressKey is the name of the DVMP of a PVC on the host.
func (s *Scope) progressKey(p migv1.PVCToMigrate) types.NamespacedName {
	return types.NamespacedName{Namespace: s.DVM.Namespace, Name: transfer.ProgressName(s.DVM.Name, p.Name, p.Namespace)}
}

// createProgressCRs creates a DirectVolumeMigrationProgress per PVC on the host, owned by
// the DVM (MTC's CreatePVProgressCRs). This controller writes their status itself while it
// follows the client pods (see doc.go).
func createProgressCRs(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	for _, p := range s.pvcs() {
		key := s.progressKey(p)
		dvmp := &migv1.DirectVolumeMigrationProgress{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: map[string]string{
				transfer.LabelDVM: string(s.DVM.UID), transfer.LabelPartOf: transfer.PartOf,
			}, Annotations: map[string]string{transfer.AnnotationPVC: p.Namespace + "/" + p.Name}},
			Spec: migv1.DirectVolumeMigrationProgressSpec{
				ClusterRef:   s.DVM.Spec.SrcMigClusterRef,
				PodNamespace: p.Namespace,
				PodSelector:  map[string]string{transfer.LabelCreatedForPVC: transfer.MD5(p.Name)},
			},
		}
		if err := controllerutil.SetControllerReference(s.DVM, dvmp, s.Host.Scheme()); err != nil {
			return itinerary.Outcome{}, fmt.Errorf("own DirectVolumeMigrationProgress: %w", err)
		}
		if err := s.Host.Create(ctx, dvmp); err != nil && !apierrors.IsAlreadyExists(err) {
			return itinerary.Outcome{}, fmt.Errorf("create DirectVolumeMigrationProgress %s: %w", key, err)
		}
	}
	return itinerary.Done(), nil
}

// attempt is what one client pod showed.
type attempt struct {
	status migv1.RsyncPodStatus
	// failure is the classified failure of a failed pod.
	failure *transfer.Failure
	// stats are rsync's statistics of a finished pod.
	stats *transfer.Stats
}

// observeAttempt reads a client pod and, unless the DVMP already recorded it as finished,
// its log: progress while it runs, statistics or a classified failure when it ended. For an
// attempt the DVMP recorded as finished, the verdict recorded with it stands (recordedFailure).
func observeAttempt(ctx context.Context, s *Scope, pod *corev1.Pod, dvmp *migv1.DirectVolumeMigrationProgress) (*attempt, error) {
	var known *migv1.RsyncPodStatus
	if dvmp != nil {
		known = &dvmp.Status.RsyncPodStatus
	}
	a := &attempt{status: migv1.RsyncPodStatus{PodName: pod.Name, PodPhase: pod.Status.Phase, CreationTimestamp: ptrTime(pod.CreationTimestamp)}}
	st := containerStatus(pod)
	var exitCode *int32
	if st != nil {
		switch {
		case st.State.Terminated != nil:
			t := st.State.Terminated
			exitCode = &t.ExitCode
			a.status.ContainerElapsedTime = &metav1.Duration{Duration: t.FinishedAt.Sub(t.StartedAt.Time).Round(time.Second)}
		case st.State.Running != nil:
			a.status.ContainerElapsedTime = &metav1.Duration{Duration: s.Now().Sub(st.State.Running.StartedAt.Time).Round(time.Second)}
		}
	}
	a.status.ExitCode = exitCode
	terminal := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	if terminal && known != nil && known.PodName == pod.Name && known.PodPhase == pod.Status.Phase {
		a.status = *known
		a.failure = recordedFailure(pod.Status.Phase, known, dvmp)
		return a, nil
	}
	if pod.Status.Phase == corev1.PodPending || pod.Status.Phase == "" {
		return a, nil
	}
	out, err := readLog(ctx, s.Source.Logs, pod)
	if err != nil {
		return nil, err
	}
	if p, ok := transfer.ParseProgress(out); ok {
		a.status.LastObservedProgressPercent = strconv.Itoa(p.Percent) + "%"
		a.status.LastObservedTransferRate = p.Rate
		a.status.TransferredBytes = p.Bytes
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		a.status.LastObservedProgressPercent = "100%"
		if stats, ok := transfer.ParseStats(out); ok {
			a.stats = &stats
		}
		a.status.LogMessage = strings.Join(transfer.StatsLines(out), "\n")
		if f := transfer.CheckSucceeded(out); f != nil {
			a.failure = f
			a.status.LogMessage = f.Message + "\n" + a.status.LogMessage
		}
	case corev1.PodFailed:
		code := -1
		if exitCode != nil {
			code = int(*exitCode)
		}
		f := transfer.Classify(code, out)
		a.failure = &f
		a.status.LogMessage = f.Message + "\n" + transfer.LastLines(out, 5, 200)
	default:
		a.status.LogMessage = transfer.LastLines(out, 5, 200)
	}
	return a, nil
}

// recordedFailure is the verdict on a finished attempt that the DVMP recorded: a failed pod
// failed with the first line of its recorded log; a pod that exited 0 failed only if the
// verdict recorded with it says so (transfer.CheckSucceeded found the success untrustworthy).
// The verdict is kept in the DVMP, in the same write as the attempt's status, because the
// DVM's own record of it (its rsync operation marked failed) is written later and may be lost:
// without it the next reconcile would call the attempt a success.
func recordedFailure(phase corev1.PodPhase, known *migv1.RsyncPodStatus, dvmp *migv1.DirectVolumeMigrationProgress) *transfer.Failure {
	if phase == corev1.PodFailed {
		f := transfer.Failure{Message: firstLine(known.LogMessage), Kind: transfer.FailureRsync}
		if known.ExitCode != nil {
			f.ExitCode = int(*known.ExitCode)
		}
		return &f
	}
	if dvmp == nil {
		return nil
	}
	c := conditions.Find(dvmp.Status.Conditions, migv1.Failed)
	if c == nil {
		return nil
	}
	msg, ok := strings.CutPrefix(c.Message, known.PodName+": ")
	if !ok {
		return nil
	}
	return &transfer.Failure{Kind: c.Reason, Message: msg}
}

// recordVerdict records on the DVMP that the attempt of pod exited 0 but failed: its Failed
// condition (durable, Critical) names the pod and carries the failure's kind and message.
func recordVerdict(dvmp *migv1.DirectVolumeMigrationProgress, pod string, f transfer.Failure, now metav1.Time) {
	c := conditions.Critical(migv1.Failed, f.Kind, pod+": "+f.Message)
	c.Durable = true
	conditions.Set(dvmp, c, now)
}

// recordProgress writes the attempt into the PVC's DVMP: the attempt as its current status,
// finished attempts in the history, elapsed time summed over them, and the verdict on an
// attempt that exited 0 but cannot be trusted (recordVerdict).
func recordProgress(ctx context.Context, s *Scope, dvmp *migv1.DirectVolumeMigrationProgress, a *attempt) error {
	if dvmp == nil {
		return nil
	}
	before := dvmp.DeepCopy()
	st := &dvmp.Status
	st.RsyncPodStatus = a.status
	finished := a.status.PodPhase == corev1.PodSucceeded || a.status.PodPhase == corev1.PodFailed
	replaced := false
	for i := range st.RsyncPodStatuses {
		if st.RsyncPodStatuses[i].PodName == a.status.PodName {
			st.RsyncPodStatuses[i], replaced = a.status, true
		}
	}
	if finished && !replaced {
		st.RsyncPodStatuses = append(st.RsyncPodStatuses, a.status)
	}
	var elapsed time.Duration
	for _, h := range st.RsyncPodStatuses {
		if h.ContainerElapsedTime != nil {
			elapsed += h.ContainerElapsedTime.Duration
		}
	}
	if !finished && a.status.ContainerElapsedTime != nil {
		elapsed += a.status.ContainerElapsedTime.Duration
	}
	st.RsyncElapsedTime = &metav1.Duration{Duration: elapsed}
	st.TotalProgressPercentage = a.status.LastObservedProgressPercent
	st.ObservedGeneration = dvmp.Generation
	if a.status.PodPhase == corev1.PodSucceeded && a.failure != nil {
		recordVerdict(dvmp, a.status.PodName, *a.failure, metav1.NewTime(s.Now()))
	}
	if equality.Semantic.DeepEqual(before.Status, dvmp.Status) {
		return nil
	}
	if err := s.Host.Status().Patch(ctx, dvmp, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patch DirectVolumeMigrationProgress %s status: %w", dvmp.Name, err)
	}
	return nil
}

// podProgress is the DVM status entry of a PVC's current pod.
func podProgress(p migv1.PVCToMigrate, ns, podName string, dvmp *migv1.DirectVolumeMigrationProgress) *migv1.PodProgress {
	pp := &migv1.PodProgress{
		ObjectReference: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: podName},
		PVCReference:    &corev1.ObjectReference{Namespace: p.Namespace, Name: p.Name},
	}
	if dvmp != nil {
		pp.LastObservedProgressPercent = dvmp.Status.TotalProgressPercentage
		pp.LastObservedTransferRate = dvmp.Status.LastObservedTransferRate
		pp.TotalElapsedTime = dvmp.Status.RsyncElapsedTime
	}
	return pp
}

func containerStatus(pod *corev1.Pod) *corev1.ContainerStatus {
	for i := range pod.Status.ContainerStatuses {
		if pod.Status.ContainerStatuses[i].Name == transfer.ContainerRsync {
			return &pod.Status.ContainerStatuses[i]
		}
	}
	return nil
}

func ptrTime(t metav1.Time) *metav1.Time { return &t }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
