// Package cli is the ferry command-line tool (cmd/ferry): everyday verbs against the host
// cluster (cluster add, storage add, plan create, stage, cutover, rollback, cancel, watch),
// describe, and must-gather.
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
//   - Credentials are read from files (--token-file, --access-key-file), not flags, so they
//     stay out of the process list and shell history; must-gather redacts every Secret value.
package cli
