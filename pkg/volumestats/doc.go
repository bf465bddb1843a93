// Package volumestats reads how full persistent volumes are, without exec into pods: the
// kubelet's /stats/summary through the API server's node proxy (the API metrics-server and
// `kubectl top` use), which reports, per pod, the used bytes, capacity and inodes of each
// volume with the PVC it comes from. MTC ran df and du in a node-agent pod by exec instead;
// exec breaks behind proxies that drop SPDY/websocket upgrades and needs a privileged
// DaemonSet.
//
// Trade-off: the kubelet measures only volumes that a running pod mounts. A claim no running
// pod mounts (a stopped application) has no statistics; callers say so and keep sizes as they
// are rather than guess.
package volumestats
