package directvolumemigration

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

const (
	// clientPendingWarning is how long a client pod may stay Pending before a warning.
	clientPendingWarning = 10 * time.Minute
)

// pvcOutcome is where one PVC stands after this reconcile looked at it.
type pvcOutcome struct {
	pvc      migv1.PVCToMigrate
	progress *migv1.PodProgress
	state    string // one of the list names below
	failure  string
	kind     string
	// attempt is the attempt followed; activity is the end of its log while it runs, and
	// refused the API's message when the cluster refused to create its pod.
	attempt  int
	activity string
	refused  string
}

const (
	stateSucceeded = "succeeded"
	stateFailed    = "failed"
	stateRunning   = "running"
	statePending   = "pending"
)

// runRsyncOperations runs one rsync client pod per PVC (up to rsync_parallel_transfers at a
// time), each
// attempt a new pod with a deterministic name recorded in status.rsyncOperations before it is
// created; a failed attempt is followed by the next one until the back-off limit, and each
// attempt resumes what the previous ones copied (--partial). It finishes when every PVC has
// succeeded or used up its attempts; any failed PVC fails the DVM, with one message per PVC.
//
// What it decides is persisted before anything acts on it: a new attempt number before its pod
// is created, and a verdict before the phase ends. The phases after it delete the transfer
// resources, so a verdict held only in memory when the operator dies would leave a DVM at
// RunRsyncOperations whose finished attempt looks unfinished; it would create that attempt's
// pod again, with its configuration already deleted, and the pod would wait for ever.
func runRsyncOperations(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	if err := recreateLostServers(ctx, s); err != nil {
		return itinerary.Outcome{}, err
	}
	var outcomes []pvcOutcome
	recorded, active := false, 0
	for _, p := range s.pvcs() {
		op := operation(s.DVM, p)
		if op.CurrentAttempt == 0 {
			if active >= s.parallelTransfers() {
				outcomes = append(outcomes, pvcOutcome{pvc: p, state: statePending})
				continue
			}
			op.CurrentAttempt, recorded = 1, true
			active++
			outcomes = append(outcomes, pvcOutcome{pvc: p, state: statePending})
			continue
		}
		out, err := followOperation(ctx, s, p, op)
		if err != nil {
			return itinerary.Outcome{}, err
		}
		if out.recorded {
			recorded = true
		}
		if out.state == stateRunning || out.state == statePending {
			active++
		}
		outcomes = append(outcomes, out.pvcOutcome)
	}
	s.applyOutcomes(outcomes)
	waiting, state := fmt.Sprintf("the rsync transfers of %d PVCs from the source cluster", len(outcomes)), transferState(outcomes)
	if recorded {
		// Persist the new attempt numbers before creating their pods, and verdicts before
		// the cleanup that follows this phase.
		return itinerary.Wait(again).Observed(waiting, state), nil
	}
	if slices.ContainsFunc(outcomes, func(o pvcOutcome) bool { return o.state == stateRunning || o.state == statePending }) {
		return s.pollUnlessRefused(pollTransfer).Observed(waiting, state), nil
	}
	return finish(s, outcomes), nil
}

// transferState is what progress of the transfers looks like: each PVC's state, attempt,
// percentage and the end of its log (rsync writes when it moves data), or why its pod is
// refused. Not the elapsed time or the rate of a transfer, which change by themselves.
func transferState(outcomes []pvcOutcome) string {
	parts := make([]string, 0, len(outcomes))
	for _, o := range outcomes {
		part := fmt.Sprintf("%s: %s", pvcKey(o.pvc), o.state)
		if o.attempt > 0 {
			part += fmt.Sprintf(" (attempt %d)", o.attempt)
		}
		if o.progress != nil && o.progress.LastObservedProgressPercent != "" {
			part += " " + o.progress.LastObservedProgressPercent
		}
		if o.activity != "" {
			part += ", log: " + o.activity
		}
		if o.refused != "" {
			part += ", pod refused: " + o.refused
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// operation returns the status.rsyncOperations entry of p, adding it when missing.
func operation(dvm *migv1.DirectVolumeMigration, p migv1.PVCToMigrate) *migv1.RsyncOperation {
	for _, op := range dvm.Status.RsyncOperations {
		if op != nil && op.PVCReference != nil && op.PVCReference.Namespace == p.Namespace && op.PVCReference.Name == p.Name {
			return op
		}
	}
	op := &migv1.RsyncOperation{PVCReference: &corev1.ObjectReference{Namespace: p.Namespace, Name: p.Name}}
	dvm.Status.RsyncOperations = append(dvm.Status.RsyncOperations, op)
	return op
}

type followed struct {
	pvcOutcome
	recorded bool
}

// followOperation looks at the pod of the operation's current attempt: creates it when it is
// missing, records its progress, and moves to the next attempt when it failed.
func followOperation(ctx context.Context, s *Scope, p migv1.PVCToMigrate, op *migv1.RsyncOperation) (followed, error) {
	out := followed{pvcOutcome: pvcOutcome{pvc: p, attempt: op.CurrentAttempt}}
	name := s.Names.ClientPod(p.Name, op.CurrentAttempt)
	dvmp := &migv1.DirectVolumeMigrationProgress{}
	if err := s.Host.Get(ctx, s.progressKey(p), dvmp); err != nil {
		if !apierrors.IsNotFound(err) {
			return out, fmt.Errorf("get DirectVolumeMigrationProgress of %s: %w", pvcKey(p), err)
		}
		dvmp = nil
	}
	pod := &corev1.Pod{}
	err := s.Source.Client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: name}, pod)
	switch {
	case apierrors.IsNotFound(err) && (op.Succeeded || op.Failed):
		out.progress = podProgress(p, p.Namespace, name, dvmp)
		out.state, out.failure = stateOf(op), failureOf(dvmp)
		return out, nil
	case apierrors.IsNotFound(err):
		out.progress, out.state = podProgress(p, p.Namespace, name, nil), statePending
		if missing, err := missingClientConfig(ctx, s, p.Namespace); err != nil || missing != "" {
			return configGone(ctx, s, out, op, name, missing, dvmp, err)
		}
		refused := len(s.refusals)
		if err := createClientPod(ctx, s, p, op.CurrentAttempt); err != nil {
			return out, err
		}
		if len(s.refusals) > refused {
			out.refused = s.refusals[len(s.refusals)-1]
		} else {
			s.Log.Info("Created rsync client pod", "pvc", pvcKey(p), "pod", name, "attempt", op.CurrentAttempt)
		}
		return out, nil
	case err != nil:
		return out, fmt.Errorf("get rsync client pod %s/%s: %w", p.Namespace, name, err)
	}
	a, err := observeAttempt(ctx, s, pod, dvmp)
	if err != nil {
		return out, err
	}
	if err := recordProgress(ctx, s, dvmp, a); err != nil {
		return out, err
	}
	out.progress = podProgress(p, p.Namespace, name, dvmp)
	if pod.Status.Phase == corev1.PodRunning && dvmp != nil {
		out.activity = lastLine(dvmp.Status.LogMessage)
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		switch {
		case a.failure != nil:
			// rsync exited 0 but the copy cannot be trusted (transfer.CheckSucceeded); another
			// attempt would see the same.
			out.recorded = !op.Failed
			op.Succeeded, op.Failed = false, true
			out.state, out.failure, out.kind = stateFailed, a.failure.Message, a.failure.Kind
		case op.Failed:
			out.state, out.failure = stateFailed, failureOf(dvmp)
		default:
			out.recorded = !op.Succeeded
			op.Succeeded = true
			out.state = stateSucceeded
		}
	case corev1.PodFailed:
		switch {
		case op.Failed:
			out.state = stateFailed
		case op.CurrentAttempt < s.backOffLimit() && retryable(a.failure):
			op.CurrentAttempt++
			out.recorded, out.state = true, stateRunning
		default:
			op.Failed = true
			out.recorded, out.state = true, stateFailed
		}
		out.failure, out.kind = a.failure.Message, a.failure.Kind
	case corev1.PodRunning:
		out.state = stateRunning
	default:
		out.state = statePending
		if missing, err := missingClientConfig(ctx, s, p.Namespace); err != nil || missing != "" {
			return configGone(ctx, s, out, op, name, missing, dvmp, err)
		}
		if s.Now().Sub(pod.CreationTimestamp.Time) > clientPendingWarning {
			s.warn(migv1.RsyncClientPodsPending, "", fmt.Sprintf("Rsync Client Pods [%s/%s] are stuck in Pending state for more than 10 mins", p.Namespace, name))
		}
	}
	if out.recorded {
		s.Log.Info("Rsync attempt ended", "pvc", pvcKey(p), "pod", name, "attempt", op.CurrentAttempt,
			"verdict", out.state, "failure", out.failure)
	}
	return out, nil
}

// missingClientConfig names the client ConfigMap or Secret of namespace ns that is missing
// ("" when both exist). createTransferConfig made them before this phase, so a missing one
// was deleted since: a client pod would wait for it for ever (ContainerCreating).
func missingClientConfig(ctx context.Context, s *Scope, ns string) (string, error) {
	key := types.NamespacedName{Namespace: ns, Name: s.Names.Client()}
	for _, obj := range []client.Object{&corev1.ConfigMap{}, &corev1.Secret{}} {
		err := s.Source.Client.Get(ctx, key, obj)
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Sprintf("%T %s", obj, key), nil
		case err != nil:
			return "", fmt.Errorf("get rsync client configuration %s: %w", key, err)
		}
	}
	return "", nil
}

// configGone fails an operation whose client configuration is gone (missing names it; err is
// the error of looking, returned as is): no attempt can start, and waiting would be silent.
// The failure says what is missing and is kept in the PVC's DVMP, where later reconciles read
// it; the DVM fails, and its migration with it, instead of sitting at RunRsyncOperations.
func configGone(ctx context.Context, s *Scope, out followed, op *migv1.RsyncOperation, pod, missing string,
	dvmp *migv1.DirectVolumeMigrationProgress, err error) (followed, error) {
	if err != nil || missing == "" {
		return out, err
	}
	msg := fmt.Sprintf("the rsync client configuration (%s) was deleted while the transfer ran, so client pod %s/%s cannot start; "+
		"run the migration again", strings.TrimPrefix(missing, "*v1."), out.pvc.Namespace, pod)
	s.Log.Info("Rsync client configuration is missing; failing the volume", "pvc", pvcKey(out.pvc), "pod", pod, "missing", missing)
	out.recorded = out.recorded || !op.Failed
	op.Succeeded, op.Failed = false, true
	out.state, out.failure = stateFailed, msg
	if dvmp == nil {
		return out, nil
	}
	before := dvmp.DeepCopy()
	dvmp.Status.PodName, dvmp.Status.LogMessage = pod, msg
	recordVerdict(dvmp, pod, transfer.Failure{Kind: "ConfigurationMissing", Message: msg}, metav1.NewTime(s.Now()))
	if equality.Semantic.DeepEqual(before.Status, dvmp.Status) {
		return out, nil
	}
	if err := s.Host.Status().Patch(ctx, dvmp, client.MergeFrom(before)); err != nil {
		return out, fmt.Errorf("patch DirectVolumeMigrationProgress %s status: %w", dvmp.Name, err)
	}
	return out, nil
}

// recreateLostServers creates the rsync server pod of a destination namespace again when it
// is gone (an evicted pod, a lost node): it runs until the DVM deletes it, and the clients'
// next attempts reach the new one through the same endpoint.
func recreateLostServers(ctx context.Context, s *Scope) error {
	for _, ns := range s.destinationNamespaces() {
		err := s.Destination.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: s.Names.Server()}, &corev1.Pod{})
		switch {
		case err == nil:
			continue
		case !apierrors.IsNotFound(err):
			return fmt.Errorf("get rsync server pod in %s: %w", ns, err)
		}
		srv, err := s.runningServer(ctx, ns)
		if err != nil {
			return err
		}
		if err := s.createPod(ctx, s.Destination, srv.Pod()); err != nil {
			return err
		}
		s.Log.Info("Lost rsync server pod created again", "namespace", ns, "pod", s.Names.Server())
	}
	return nil
}

// retryable reports whether another attempt may succeed: refused credentials (a proxy's, a
// certificate, the rsync password) are refused again, so they fail at once instead of after
// the whole back-off.
func retryable(f *transfer.Failure) bool {
	if f == nil {
		return true
	}
	switch f.Kind {
	case transfer.FailureProxy, transfer.FailureTLS, transfer.FailureAuth:
		return false
	}
	return true
}

func stateOf(op *migv1.RsyncOperation) string {
	if op.Succeeded {
		return stateSucceeded
	}
	return stateFailed
}

func failureOf(dvmp *migv1.DirectVolumeMigrationProgress) string {
	if dvmp == nil {
		return "rsync failed"
	}
	return firstLine(dvmp.Status.LogMessage)
}

// createClientPod creates the client pod of an attempt, on the node of a running pod that
// mounts the PVC when there is one (a ReadWriteOnce volume can only be mounted there).
func createClientPod(ctx context.Context, s *Scope, p migv1.PVCToMigrate, attempt int) error {
	node, err := mountingNode(ctx, s.Source.Client, p.Namespace, p.Name)
	if err != nil {
		return err
	}
	id, err := s.identity(ctx, s.Source, p.Namespace)
	if err != nil {
		return err
	}
	proxy, _ := transfer.ParseProxy(s.Settings.StunnelTCPProxy) // checked by createTransferConfig
	labels := s.labels()
	labels[transfer.LabelCreatedForPVC] = transfer.MD5(p.Name)
	labels[transfer.LabelAttempt] = strconv.Itoa(attempt)
	c := transfer.Client{
		Namespace: p.Namespace, Name: s.Names.ClientPod(p.Name, attempt), Config: s.Names.Client(),
		DestinationNamespace: destNamespace(p), Labels: labels, Image: s.image(), PVC: p.Name,
		Module: transfer.Module(destName(p)), Verify: p.Verify, Options: s.rsyncOptions(), NodeName: node,
		SupplementalGroups: s.Settings.SourceSupplementalGroups, Identity: id, StunnelInSecret: proxy.HasCredentials(),
		Resources: s.Settings.ClientPodResources,
		Env:       s.Settings.ProxyEnv(),
	}
	pod, err := c.Pod()
	if err != nil {
		return err
	}
	return s.createPod(ctx, s.Source, pod)
}

// mountingNode returns the node of a running pod that mounts the claim, or "".
func mountingNode(ctx context.Context, c client.Client, ns, claim string) (string, error) {
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(ns)); err != nil {
		return "", fmt.Errorf("list pods in %s: %w", ns, err)
	}
	for _, pod := range pods.Items {
		if pod.Status.Phase != corev1.PodRunning || pod.Spec.NodeName == "" || pod.Labels[transfer.LabelApp] == transfer.AppTransfer {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
				return pod.Spec.NodeName, nil
			}
		}
	}
	return "", nil
}

// applyOutcomes writes MTC's per-pod lists and a description of the transfer.
func (s *Scope) applyOutcomes(outcomes []pvcOutcome) {
	st := &s.DVM.Status
	st.SuccessfulPods, st.FailedPods, st.RunningPods, st.PendingPods = nil, nil, nil, nil
	var percents []int
	for _, o := range outcomes {
		if o.progress == nil {
			o.progress = &migv1.PodProgress{PVCReference: &corev1.ObjectReference{Namespace: o.pvc.Namespace, Name: o.pvc.Name}}
		}
		switch o.state {
		case stateSucceeded:
			st.SuccessfulPods = append(st.SuccessfulPods, o.progress)
			percents = append(percents, 100)
			continue
		case stateFailed:
			st.FailedPods = append(st.FailedPods, o.progress)
		case stateRunning:
			st.RunningPods = append(st.RunningPods, o.progress)
		default:
			st.PendingPods = append(st.PendingPods, o.progress)
		}
		pct, _ := strconv.Atoi(strings.TrimSuffix(o.progress.LastObservedProgressPercent, "%"))
		percents = append(percents, pct)
	}
	total := 0
	for _, p := range percents {
		total += p
	}
	if len(percents) > 0 {
		s.description = fmt.Sprintf("Transferring data: %d of %d volumes done (%d failed), %d running, %d pending; %d%% overall.",
			len(st.SuccessfulPods)+len(st.FailedPods), len(outcomes), len(st.FailedPods), len(st.RunningPods), len(st.PendingPods), total/len(percents))
	}
}

// finish judges operations that all ended: success, or a failure naming each failed PVC. When
// every failure is an unreachable endpoint, the durable SourceToDestinationNetworkError says
// so (MTC's diagnosis).
func finish(s *Scope, outcomes []pvcOutcome) itinerary.Outcome {
	var msgs []string
	allUnreachable := true
	for _, o := range outcomes {
		if o.state != stateFailed {
			continue
		}
		op := operation(s.DVM, o.pvc)
		msgs = append(msgs, fmt.Sprintf("%s: %s (after %d attempts)", pvcKey(o.pvc), o.failure, op.CurrentAttempt))
		if o.kind != transfer.FailureUnreachable && !strings.Contains(o.failure, "endpoint unreachable") {
			allUnreachable = false
		}
	}
	if len(msgs) == 0 {
		return itinerary.Done()
	}
	if allUnreachable {
		reason := migv1.RsyncTimedOut
		if strings.Contains(strings.Join(msgs, " "), "No route to host") {
			reason = migv1.RsyncNoRouteToHost
		}
		c := conditions.Critical(migv1.SourceToDestinationNetworkError, reason,
			"The rsync clients on the source cluster could not reach the rsync servers on the destination cluster: "+msgs[0])
		c.Durable = true
		s.networkError = &c
	}
	return itinerary.Failed("RsyncOperationsFailed", fmt.Sprintf("rsync failed for %d of %d PVCs: %s", len(msgs), len(outcomes), strings.Join(msgs, "; ")))
}
