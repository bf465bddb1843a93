// Package migenv starts everything a migration needs on this machine, for the migration
// tests, the migration benchmark and the demo: a source and a destination cluster (real
// control planes with kube-controller-manager and kube-scheduler, and a process node each, so
// pods run), an S3 server with a bucket, a real Velero
// server for each cluster on that bucket, and the Ferry operator as its own process on the
// destination (the host cluster), with both clusters and the storage registered and Ready.
//
// # Implementation considerations
//
//   - The operator runs as a process, not in the test binary, so tests can kill it with
//     SIGKILL at any moment and start it again, as a node failure would.
//   - The operator binary is built by Start (go build, cached by Go's build cache) unless a
//     path is given: plain `go test` works without a make step.
//   - Velero runs in the operator's namespace on both clusters (MTC's layout).
//   - Stop tears down in reverse order and is safe after a failed Start.
package migenv
