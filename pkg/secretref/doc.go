// Package secretref holds the one rule for Secrets named by Ferry's resources (a MigCluster's
// serviceAccountSecretRef, a MigStorage's credsSecretRefs): which namespaces they may name.
//
// # Implementation considerations
//
//   - The operator can read every Secret of the cluster, so a reference to any namespace
//     would let whoever may create a MigCluster or MigStorage send another tenant's token to
//     a URL of their choice, or copy its keys into the Velero namespace. A reference may
//     therefore name only the referencing resource's own namespace (the operator's, where
//     MTC's resources live) or openshift-config, where MTC's documentation and manifests put
//     these Secrets; anything else is refused before the Secret is read.
//   - The rule is a function of two strings with no I/O, so that every controller that reads
//     a referenced Secret checks the same thing before reading it.
package secretref
