package install

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/node"
)

const (
	// DeploymentName is the operator's Deployment in config/manager (MTC's name).
	DeploymentName = "migration-controller"
	// managerContainer is the operator's container in that Deployment.
	managerContainer = "manager"
	// runningTimeout bounds how long the operator's container may take to run after a deploy
	// or a kill (the restart backoff is 1 s; a loaded CI machine is slow).
	runningTimeout = 2 * time.Minute
	poll           = 100 * time.Millisecond
)

// Operator is the operator as deployed from config/default on a host cluster, running as a
// pod of that cluster's process node.
type Operator struct {
	cp        *controlplane.ControlPlane
	node      *node.Node
	namespace string
	selector  map[string]string
}

// Deploy applies config/default with the operator image set to image (BuildWithImage) to
// the host cluster cp and waits until the operator's container runs on n, whose registry
// must hold image (PushOperatorImage).
func Deploy(ctx context.Context, cp *controlplane.ControlPlane, n *node.Node, image string) (*Operator, error) {
	objs, err := BuildWithImage(image)
	if err != nil {
		return nil, err
	}
	if err := Apply(ctx, cp.Client, objs); err != nil {
		return nil, err
	}
	d, err := operatorDeployment(objs)
	if err != nil {
		return nil, err
	}
	selector, _, err := unstructured.NestedStringMap(d.Object, "spec", "selector", "matchLabels")
	if err != nil {
		return nil, fmt.Errorf("deployment %s selector: %w", DeploymentName, err)
	}
	if len(selector) == 0 {
		return nil, fmt.Errorf("deployment %s has no selector labels", DeploymentName)
	}
	o := &Operator{cp: cp, node: n, namespace: d.GetNamespace(), selector: selector}
	if _, err := o.WaitRunning(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

// Namespace is where the operator runs.
func (o *Operator) Namespace() string { return o.namespace }

// Pod returns the operator's current pod (not being deleted), or an error when there is none.
func (o *Operator) Pod(ctx context.Context) (*corev1.Pod, error) {
	pods := &corev1.PodList{}
	if err := o.cp.Client.List(ctx, pods, client.InNamespace(o.namespace), client.MatchingLabels(o.selector)); err != nil {
		return nil, fmt.Errorf("list the operator's pods: %w", err)
	}
	for i := range pods.Items {
		if pods.Items[i].DeletionTimestamp == nil {
			return &pods.Items[i], nil
		}
	}
	return nil, fmt.Errorf("no operator pod in %s", o.namespace)
}

// PID is the host PID of the operator's process, when its container runs.
func (o *Operator) PID(ctx context.Context) (int, bool) {
	pod, err := o.Pod(ctx)
	if err != nil {
		return 0, false
	}
	return o.node.ContainerPID(pod.Namespace, pod.Name, managerContainer)
}

// WaitRunning waits until the operator's container runs and returns its host PID.
func (o *Operator) WaitRunning(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, runningTimeout)
	defer cancel()
	why := ""
	for {
		pod, err := o.Pod(ctx)
		if err == nil {
			if pid, ok := o.node.ContainerPID(pod.Namespace, pod.Name, managerContainer); ok && managerRunning(pod) {
				return pid, nil
			}
			why = describe(pod)
		} else {
			why = err.Error()
		}
		select {
		case <-ctx.Done():
			logCtx, cancelLog := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancelLog()
			return 0, fmt.Errorf("the operator is not running after %s: %s; its log:\n%s", runningTimeout, why, o.LogTail(logCtx, 4000))
		case <-time.After(poll):
		}
	}
}

// Kill ends the operator's process with SIGKILL, as an OOM kill would, and returns once it is
// gone. The node restarts the container; WaitRunning waits for that.
func (o *Operator) Kill(ctx context.Context) error {
	pid, ok := o.PID(ctx)
	if !ok {
		return errors.New("the operator is not running")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill the operator (PID %d): %w", pid, err)
	}
	deadline := time.Now().Add(runningTimeout)
	for time.Now().Before(deadline) {
		if now, ok := o.PID(ctx); !ok || now != pid {
			return nil
		}
		time.Sleep(poll / 10)
	}
	return fmt.Errorf("the operator (PID %d) is still there after SIGKILL", pid)
}

// LogTail returns the last n bytes of the operator's log through the API server (what
// `kubectl logs` shows), the previous run's first when it restarted; "" when there is none.
func (o *Operator) LogTail(ctx context.Context, n int64) string {
	pod, err := o.Pod(ctx)
	if err != nil {
		return err.Error()
	}
	var out strings.Builder
	restarts := int32(0)
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == managerContainer {
			restarts = s.RestartCount
		}
	}
	if restarts > 0 {
		fmt.Fprintf(&out, "--- previous run (of %d restarts) ---\n", restarts)
		out.WriteString(o.logs(ctx, pod, true, n/2))
		out.WriteString("--- current run ---\n")
	}
	out.WriteString(o.logs(ctx, pod, false, n))
	return out.String()
}

func (o *Operator) logs(ctx context.Context, pod *corev1.Pod, previous bool, n int64) string {
	opts := &corev1.PodLogOptions{Container: managerContainer, Previous: previous, LimitBytes: ptr.To(max(n, 1) * 64), TailLines: ptr.To[int64](max(n/80, 50))}
	raw, err := o.cp.Clientset.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, opts).DoRaw(ctx)
	if err != nil {
		return fmt.Sprintf("(logs of %s: %v)\n", pod.Name, err)
	}
	return string(raw[max(0, int64(len(raw))-n):])
}

func managerRunning(pod *corev1.Pod) bool {
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == managerContainer {
			return s.State.Running != nil
		}
	}
	return false
}

// describe says why a pod is not running yet, for a timeout's message.
func describe(pod *corev1.Pod) string {
	parts := []string{fmt.Sprintf("pod %s is %s", pod.Name, pod.Status.Phase)}
	for _, s := range pod.Status.ContainerStatuses {
		switch {
		case s.State.Waiting != nil:
			parts = append(parts, fmt.Sprintf("%s waiting: %s %s", s.Name, s.State.Waiting.Reason, s.State.Waiting.Message))
		case s.State.Terminated != nil:
			parts = append(parts, fmt.Sprintf("%s terminated: %s (exit %d) %s", s.Name, s.State.Terminated.Reason, s.State.Terminated.ExitCode, s.State.Terminated.Message))
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			parts = append(parts, fmt.Sprintf("%s: %s", c.Type, c.Message))
		}
	}
	return strings.Join(parts, "; ")
}
