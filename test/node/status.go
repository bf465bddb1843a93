package node

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// publish writes the pod's status when it changed since the last write.
func (w *podWorker) publish() {
	if w.n.ctx.Err() != nil || w.isGone() {
		return
	}
	ctx, cancel := context.WithTimeout(w.n.ctx, apiTimeout)
	defer cancel()
	pods := w.n.cs.CoreV1().Pods(w.current().Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod := w.current().DeepCopy()
		w.mu.Lock()
		st := w.status(pod)
		same := w.published != nil && equality.Semantic.DeepEqual(*w.published, st)
		w.mu.Unlock()
		if same {
			return nil
		}
		pod.Status = st
		updated, err := pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			if fresh, gerr := pods.Get(ctx, pod.Name, metav1.GetOptions{}); gerr == nil && fresh.UID == w.uid {
				w.update(fresh)
			}
			return err
		}
		if err != nil {
			return err
		}
		w.mu.Lock()
		w.published = &st
		if w.pod.ResourceVersion == pod.ResourceVersion {
			w.pod = updated
		}
		w.mu.Unlock()
		return nil
	})
	if err != nil && !apierrors.IsNotFound(err) && w.n.ctx.Err() == nil {
		w.n.logf("process node %s: pod %s: write status: %v", w.n.name, w.key, err)
	}
}

// status computes the pod's status from what the worker knows (w.mu held), keeping conditions
// others own (PodScheduled...).
func (w *podWorker) status(pod *corev1.Pod) corev1.PodStatus {
	st := *pod.Status.DeepCopy()
	st.HostIP = w.n.ip
	st.HostIPs = []corev1.HostIP{{IP: w.n.ip}}
	st.StartTime = &w.startTime
	st.PodIP, st.PodIPs = w.ip, nil
	if w.ip != "" {
		st.PodIPs = []corev1.PodIP{{IP: w.ip}}
	}
	st.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, w.containerStatus(w.ctrs[c.Name]))
	}
	st.ContainerStatuses = nil
	allReady := true
	for _, c := range pod.Spec.Containers {
		cs := w.containerStatus(w.ctrs[c.Name])
		allReady = allReady && cs.Ready
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	st.Phase = w.phase(pod)
	if st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed {
		allReady = false
	}
	now := metav1.Now()
	setCondition(&st, corev1.PodScheduled, true, now)
	setCondition(&st, corev1.PodReadyToStartContainers, w.sb != nil, now)
	setCondition(&st, corev1.PodInitialized, w.initDone, now)
	setCondition(&st, corev1.ContainersReady, allReady, now)
	setCondition(&st, corev1.PodReady, allReady, now)
	return st
}

func (w *podWorker) containerStatus(c *ctrState) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.name, Image: c.spec.Image, ImageID: c.spec.Image, RestartCount: c.restarts,
		Started: new(bool)}
	if c.image != nil {
		cs.ImageID = c.image.ID
	}
	if c.ran {
		cs.ContainerID = "process://" + string(w.uid) + "/" + c.name
	}
	if c.previous != nil {
		cs.LastTerminationState.Terminated = c.previous
	}
	switch {
	case c.proc != nil && c.proc.running():
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.proc.started)}
		cs.Ready, *cs.Started = true, true
	case c.waitReason != "":
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.waitReason, Message: c.waitMsg}
		if c.last != nil {
			cs.LastTerminationState.Terminated = c.last
		}
	case c.last != nil:
		cs.State.Terminated = c.last
	default:
		reason := "ContainerCreating"
		if !c.init && len(w.pod.Spec.InitContainers) > 0 && !w.initDone {
			reason = "PodInitializing"
		}
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: w.waitMsg}
	}
	return cs
}

// phase follows the kubelet: Pending until every container has started, Running while any
// runs or will restart, then Succeeded or Failed.
func (w *podWorker) phase(pod *corev1.Pod) corev1.PodPhase {
	if w.initFailed {
		return corev1.PodFailed
	}
	if !w.initDone {
		return corev1.PodPending
	}
	failed, active := false, false
	for _, c := range pod.Spec.Containers {
		s := w.ctrs[c.Name]
		switch {
		case !s.ran:
			return corev1.PodPending
		case s.proc != nil || !s.retryAt.IsZero():
			active = true
		case s.last != nil && s.last.ExitCode != 0:
			failed = true
		}
	}
	switch {
	case active:
		return corev1.PodRunning
	case failed:
		return corev1.PodFailed
	default:
		return corev1.PodSucceeded
	}
}

// setCondition sets a condition's status, moving its transition time only when it changes.
func setCondition(st *corev1.PodStatus, t corev1.PodConditionType, ok bool, now metav1.Time) {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			if st.Conditions[i].Status != status {
				st.Conditions[i].Status, st.Conditions[i].LastTransitionTime = status, now
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: status, LastTransitionTime: now})
}
