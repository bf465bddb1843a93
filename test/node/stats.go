package node

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"path/filepath"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsv1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// serveStatsSummary answers the kubelet's /stats/summary (what `kubectl get --raw
// /api/v1/nodes/<node>/proxy/stats/summary` and metrics-server read) with the node's name and,
// per pod, its persistent volumes' usage. Only volume statistics are reported: CPU, memory
// and network figures are left out. A persistent volume here is a directory, so its usage
// is measured like the kubelet's du-based provider does for such volumes (allocated blocks and
// inodes under it) and its capacity is its PV's.
func (n *Node) serveStatsSummary(rw http.ResponseWriter, _ *http.Request) {
	now := metav1.NewTime(time.Now())
	summary := statsv1.Summary{Node: statsv1.NodeStats{NodeName: n.name, StartTime: now}}
	n.mu.Lock()
	workers := make([]*podWorker, 0, len(n.workers))
	for _, w := range n.workers {
		workers = append(workers, w)
	}
	n.mu.Unlock()
	for _, w := range workers {
		w.mu.Lock()
		pod, vols := w.pod, w.vols
		w.mu.Unlock()
		if pod == nil || vols == nil {
			continue
		}
		ps := statsv1.PodStats{PodRef: statsv1.PodReference{Name: pod.Name, Namespace: pod.Namespace, UID: string(pod.UID)}, StartTime: now}
		for name, v := range vols {
			if v.claim == "" {
				continue
			}
			used, inodes := usage(v.path)
			vs := statsv1.VolumeStats{Name: name, PVCRef: &statsv1.PVCReference{Name: v.claim, Namespace: pod.Namespace},
				FsStats: statsv1.FsStats{Time: now, UsedBytes: &used, InodesUsed: &inodes}}
			if v.capacity > 0 {
				capacity := uint64(v.capacity)
				available := capacity - min(used, capacity)
				vs.CapacityBytes, vs.AvailableBytes = &capacity, &available
			}
			ps.VolumeStats = append(ps.VolumeStats, vs)
		}
		summary.Pods = append(summary.Pods, ps)
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(summary)
}

// usage is the allocated bytes and the inodes under root (hard links counted once).
func usage(root string) (bytes, inodes uint64) {
	seen := map[uint64]bool{}
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil //nolint:nilerr // an unreadable entry is left out, as du does
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			return nil //nolint:nilerr // vanished meanwhile: left out, as du does
		}
		if seen[st.Ino] {
			return nil
		}
		seen[st.Ino] = true
		bytes += uint64(st.Blocks) * 512
		inodes++
		return nil
	})
	return bytes, inodes
}
