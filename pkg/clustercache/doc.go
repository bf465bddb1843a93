// Package clustercache hands out Kubernetes clients for MigClusters: the operator's own
// client for the host cluster, and one client per remote cluster built from its URL, the
// saToken of its Secret, its caBundle and its insecure flag. Every controller that talks to a
// source or destination cluster gets its client here.
//
// # Implementation considerations
//
//   - One entry per MigCluster, keyed by namespace/name and fingerprinted by a hash of the
//     URL, token, CA bundle and insecure flag. A changed Secret (a rotated token) or spec gives a
//     new fingerprint, and the next Get builds a new client; the old one (and its informer
//     cache, if any) is stopped. No operator restart is needed.
//   - Remote clients are uncached by default, as in MTC: reads go straight to the remote API
//     server and memory stays flat however large the remote clusters are. With
//     mig_controller_enable_cache a remote client reads through an informer cache that is
//     started on first use and stopped when the entry is replaced or forgotten; that trades
//     memory (every kind read is watched cluster-wide) for latency on slow links.
//   - The cache does not run its own health loop: the MigCluster controller probes each cluster
//     (Probe*) on a timer and records the result in conditions, and other controllers gate on
//     the MigCluster's Ready condition. One prober, one place to read health.
//   - Tokens stay inside rest.Config (whose String method redacts them); nothing here logs an
//     Access or puts a token into an error.
//   - A token Secret is read only in the MigCluster's namespace or openshift-config
//     (pkg/secretref): the token is sent to spec.url, so a reference to another namespace
//     would hand another tenant's token to whoever may write a MigCluster.
//   - Every request has a timeout (RequestTimeout) so an unreachable cluster fails fast.
package clustercache
