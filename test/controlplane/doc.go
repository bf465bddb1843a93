// Package controlplane starts real, named Kubernetes control planes (etcd and kube-apiserver,
// built from the pinned sources by `make envtest`) for integration and end-to-end tests, with
// Ferry's CRDs and Velero's CRDs installed.
//
// Several control planes run side by side ("source", "destination"), each on its own loopback
// port with its own CA, so a test can register one as a remote MigCluster on the other with a
// real ServiceAccount token minted through the TokenRequest API.
//
// # Implementation considerations
//
//   - It wraps controller-runtime's envtest rather than exec'ing the binaries itself: envtest
//     already handles ports, certificates, the admin user and CRD installation.
//   - Binaries are found without configuration: FERRY_CONTROLPLANE_BIN if set, else bin/k8s in
//     the repository that contains the working directory. So a plain `go test ./...` works
//     once `make envtest` has run. When the binaries are missing the error says how to get
//     them; tests that need a control plane fail rather than skip.
//   - Every process binds to 127.0.0.1 only. envtest's serving certificate names localhost and
//     127.0.0.1; WithNamedCertificate adds one for other names (kube-apiserver's
//     --tls-sni-cert-key, signed by NamedCABundle), so a cluster can be registered under a name
//     that only an HTTP proxy resolves and still be verified.
//   - kube-controller-manager and kube-scheduler log to files in their own directories, removed
//     on Stop; set FERRY_KEEP_LOGS=1 to keep them for debugging.
//   - etcd and kube-apiserver are started by envtest, which does not tie them to the test
//     process: a test killed with SIGKILL (or a `go test` timeout) leaves them running. The
//     extra components are killed with the test process (Pdeathsig).
package controlplane
