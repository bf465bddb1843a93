package node

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

const (
	// heartbeatInterval is how often the node renews its Lease and Ready condition (the
	// kubelet's default is 10 s; the node lifecycle controller waits 40-50 s before calling
	// a silent node unreachable).
	heartbeatInterval = 10 * time.Second
	leaseDuration     = 40
	leaseNamespace    = "kube-node-lease"
	apiTimeout        = 30 * time.Second
)

// capacity is what the node advertises: generous, so that the scheduler never refuses a pod
// for resources the host would in fact share.
func capacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("32"),
		corev1.ResourceMemory:           resource.MustParse("64Gi"),
		corev1.ResourcePods:             resource.MustParse("500"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
}

// register creates or updates the Node object, reports it Ready and removes the taints the
// API server and node lifecycle controller put on nodes that are not Ready yet, so the
// scheduler can place pods as soon as Start returns.
func (n *Node) register(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	version := "v0.0.0"
	if v, err := n.cs.Discovery().ServerVersion(); err == nil {
		version = v.GitVersion
	}
	obj := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: map[string]string{
		corev1.LabelHostname: n.name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: runtime.GOARCH,
	}}, Spec: corev1.NodeSpec{PodCIDR: podCIDR(n.slot), PodCIDRs: []string{podCIDR(n.slot)}}}
	_, err := n.cs.CoreV1().Nodes().Create(ctx, obj, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("register node %s: %w", n.name, err)
	}
	if err := n.updateStatus(ctx, version); err != nil {
		return err
	}
	if err := n.untaint(ctx); err != nil {
		return err
	}
	return n.renewLease(ctx)
}

// updateStatus writes the node's status: Ready, addresses, capacity, kubelet endpoint.
func (n *Node) updateStatus(ctx context.Context, version string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := n.cs.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if version == "" {
			version = node.Status.NodeInfo.KubeletVersion
		}
		nowTime := metav1.Now()
		transition := nowTime
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				transition = c.LastTransitionTime
			}
		}
		var uname syscall.Utsname
		_ = syscall.Uname(&uname)
		node.Status = corev1.NodeStatus{
			Capacity:    capacity(),
			Allocatable: capacity(),
			Phase:       corev1.NodeRunning,
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
					Message: "process node is posting ready status", LastHeartbeatTime: nowTime, LastTransitionTime: transition},
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", LastHeartbeatTime: nowTime, LastTransitionTime: transition},
				{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", LastHeartbeatTime: nowTime, LastTransitionTime: transition},
				{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", LastHeartbeatTime: nowTime, LastTransitionTime: transition},
			},
			// The API server reaches the kubelet API (logs, node proxy) at the first address
			// of its preferred types, Hostname first by default: where the server listens.
			// Pods and NodePorts use the InternalIP.
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: n.ip},
				{Type: corev1.NodeHostName, Address: n.server.host},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(n.server.port)}},
			NodeInfo: corev1.NodeSystemInfo{
				MachineID: "ferry-" + n.name, SystemUUID: "ferry-" + n.name, BootID: fmt.Sprint(n.started.UnixNano()),
				KernelVersion: utsString(uname.Release), OSImage: "Ferry process node", OperatingSystem: "linux",
				Architecture: runtime.GOARCH, ContainerRuntimeVersion: "process://1", KubeletVersion: version,
			},
		}
		_, err = n.cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
}

func utsString[T int8 | uint8](field [65]T) string {
	b := make([]byte, 0, len(field))
	for _, c := range field {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// untaint removes the not-ready and unreachable taints: the node lifecycle controller would
// remove them a few seconds after Ready, but the node may run without one.
func (n *Node) untaint(ctx context.Context) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := n.cs.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		var keep []corev1.Taint
		for _, t := range node.Spec.Taints {
			if t.Key != corev1.TaintNodeNotReady && t.Key != corev1.TaintNodeUnreachable {
				keep = append(keep, t)
			}
		}
		if len(keep) == len(node.Spec.Taints) {
			return nil
		}
		node.Spec.Taints = keep
		_, err = n.cs.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
		return err
	})
}

// renewLease creates or renews the node's Lease in kube-node-lease.
func (n *Node) renewLease(ctx context.Context) error {
	leases := n.cs.CoordinationV1().Leases(leaseNamespace)
	nowTime := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, n.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.name, Namespace: leaseNamespace},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(n.name), LeaseDurationSeconds: ptr.To[int32](leaseDuration),
				AcquireTime: &nowTime, RenewTime: &nowTime},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.HolderIdentity = ptr.To(n.name)
	lease.Spec.LeaseDurationSeconds = ptr.To[int32](leaseDuration)
	lease.Spec.RenewTime = &nowTime
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// heartbeat keeps the node Ready until Stop.
func (n *Node) heartbeat() {
	defer n.bg.Done()
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(n.ctx, apiTimeout)
		for _, step := range []func(context.Context) error{
			n.renewLease,
			func(ctx context.Context) error { return n.updateStatus(ctx, "") },
			n.untaint,
		} {
			if err := step(ctx); err != nil && n.ctx.Err() == nil {
				n.logf("process node %s: heartbeat: %v", n.name, err)
			}
		}
		cancel()
	}
}
