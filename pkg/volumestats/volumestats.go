package volumestats

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	statsv1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// Usage is how full one claim's volume is.
type Usage struct {
	// UsedBytes and CapacityBytes are the kubelet's figures; CapacityBytes is 0 when the
	// kubelet does not know it.
	UsedBytes, CapacityBytes uint64
	// Inodes is the number of inodes in use (files, directories, links).
	Inodes uint64
	// Node and Pod are where the figures come from.
	Node, Pod string
}

// Percent is the used share of the capacity, or of capacity when the kubelet gave none.
func (u Usage) Percent(capacity int64) float64 {
	c := float64(u.CapacityBytes)
	if c == 0 {
		c = float64(capacity)
	}
	if c <= 0 {
		return 0
	}
	return float64(u.UsedBytes) * 100 / c
}

// Node reads the kubelet statistics of node and returns the usage of every claim its pods
// mount, by "namespace/claim".
func Node(ctx context.Context, cs kubernetes.Interface, node string) (map[string]Usage, error) {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", node, "proxy", "stats", "summary").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the kubelet statistics of node %s: %w", node, err)
	}
	var summary statsv1.Summary
	if err := json.Unmarshal(raw, &summary); err != nil {
		return nil, fmt.Errorf("kubelet statistics of node %s: %w", node, err)
	}
	out := map[string]Usage{}
	for _, p := range summary.Pods {
		for _, v := range p.VolumeStats {
			if v.PVCRef == nil || v.UsedBytes == nil {
				continue
			}
			u := Usage{UsedBytes: *v.UsedBytes, Node: node, Pod: p.PodRef.Namespace + "/" + p.PodRef.Name}
			if v.CapacityBytes != nil {
				u.CapacityBytes = *v.CapacityBytes
			}
			if v.InodesUsed != nil {
				u.Inodes = *v.InodesUsed
			}
			out[v.PVCRef.Namespace+"/"+v.PVCRef.Name] = u
		}
	}
	return out, nil
}

// Claims returns the usage of each claim ("namespace/name") that a running pod in pods
// mounts, reading each node once. Claims no running pod mounts are absent.
func Claims(ctx context.Context, cs kubernetes.Interface, pods []corev1.Pod, claims []string) (map[string]Usage, error) {
	want := map[string]bool{}
	for _, c := range claims {
		want[c] = true
	}
	nodes := map[string]bool{}
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || p.Spec.NodeName == "" {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && want[p.Namespace+"/"+v.PersistentVolumeClaim.ClaimName] {
				nodes[p.Spec.NodeName] = true
			}
		}
	}
	out := map[string]Usage{}
	for node := range nodes {
		usage, err := Node(ctx, cs, node)
		if err != nil {
			return nil, err
		}
		for k, u := range usage {
			if want[k] {
				out[k] = u
			}
		}
	}
	return out, nil
}

// ProposedCapacity is MTC's PV resizing rule: when the volume's usage plus the threshold
// (percent of headroom, pv_resizing_threshold) exceeds 100 %, the destination gets
// capacity × (usage + threshold) / 100, rounded up to a whole MiB; otherwise capacity is
// kept. capacity is the larger of the source claim's request and its provisioned capacity.
func ProposedCapacity(capacity resource.Quantity, u Usage, threshold int) (resource.Quantity, bool) {
	pct := u.Percent(capacity.Value())
	if pct+float64(threshold) <= 100 {
		return capacity, false
	}
	const mi = 1 << 20
	bytes := float64(capacity.Value()) * (pct + float64(threshold)) / 100
	return *resource.NewQuantity(int64(math.Ceil(bytes/mi))*mi, resource.BinarySI), true
}
