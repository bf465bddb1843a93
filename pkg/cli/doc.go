// Package cli is the ferry command-line tool (cmd/ferry): everyday verbs against the host
// cluster (cluster add, storage add, plan create, stage, cutover, rollback, cancel, watch),
// describe, must-gather, and tunnel-api (pkg/tunnel's agents deployed on both clusters).
//
// # Implementation considerations
//
//   - Verbs are thin: each creates or reads the MTC objects a GitOps repository would hold
//     (so users of the CLI and of YAML see the same thing) and shares types and helpers with
//     the operator (api/v1alpha1, pkg/conditions, pkg/clustercache, pkg/transfer names)
//     instead of copies of them.
//   - Waiting and the live view are driven by watches (a controller-runtime informer cache of
//     the few kinds involved), never by polling; a one-second tick only advances clocks.
//   - The live view redraws in place on a terminal with plain ANSI escapes, and prints one
//     line per change elsewhere, so CI logs stay readable.
//   - The host cluster is reached as the user (kubeconfig flags as kubectl has them); remote
//     clusters, for describe and must-gather, with the MigCluster's token as the operator
//     does, each call bounded by a timeout.
//   - tunnel-api is the one verb that talks to two clusters as the user (two kubeconfig
//     contexts, crane's flags), applies its objects with server-side apply so that a re-run
//     converges, and touches only a namespace it made (labelled), never one that existed. It
//     waits for the server agent's log line of a connected client, which works where readiness
//     probes do not run, and on timeout shows the client agent's log, which says why.
//   - Credentials are read from files (--token-file, --access-key-file), not flags, so they
//     stay out of the process list and shell history; must-gather redacts every Secret value.
package cli
