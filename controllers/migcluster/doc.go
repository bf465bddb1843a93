// Package migcluster reconciles MigClusters: it validates how to reach each cluster, proves it
// with real requests, and reports the result in MTC's conditions (InvalidURL,
// InvalidSaSecretRef, InvalidSaToken, TestConnectFailed, SaTokenNotPrivileged,
// InvalidRegistryRoute, Ready) and status.registryPath.
//
// # Implementation considerations
//
//   - Checks run in a fixed order and stop at the first failure, as in MTC: a later check
//     means nothing when an earlier one failed (no point testing privileges without a URL).
//     Each check records what it saw in a scope; conditions are computed from the scope in
//     one place (migcluster_status.go).
//   - The connection test is a real GET /version with a short timeout, not the construction of
//     a client (MTC's test stopped contacting the server when controller-runtime's RESTMapper
//     became lazy). A 401 is reported as a rejected token, not as a network failure.
//   - Clusters are re-checked on a timer (RequeueAfter), sooner when they are not ready, and at
//     once when their Secret changes (a metadata-only watch on Secrets, so token data is never
//     cached in the operator's memory; the token is read with an uncached reader).
//   - Tokens never reach logs, events or conditions: messages are built from typed errors.
//   - The exposed registry route is probed without credentials (GET /v2/: a registry answers
//     401 with a WWW-Authenticate challenge, or 200 with Docker-Distribution-API-Version), over
//     TLS verified against the system roots and spec.caBundle unless spec.insecure, and
//     without following redirects. MTC sent the cluster's token to /v2/_catalog with
//     verification off: exposedRegistryPath is a free string, so that handed a cluster-wide
//     token to whatever answered there. Only an image copy sends the token to the registry,
//     over TLS verified the same way.
package migcluster
