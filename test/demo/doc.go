// Package demo runs Ferry's main job on local clusters for `make demo`: it starts a source and a
// destination control plane, runs the operator binary against the destination (the host
// cluster), registers both clusters with the MigCluster YAML of config/samples, and shows their
// progress until they are Ready. At the end it installs the web console (config/console) and
// prints its address and an admin's token to log in with.
//
// The migration engine is not built yet, so the demo stops once the clusters are Ready and says
// so; later issues extend it to storage, a plan and a migration of a sample application.
//
// # Implementation considerations
//
//   - The operator runs as a separate process (bin/manager) with the destination's kubeconfig,
//     as it would run against a real cluster, not in-process.
//   - Everything it starts is stopped on return, on Ctrl-C and on failure; state lives under
//     .ferry/demo and is removed at the end.
package demo
