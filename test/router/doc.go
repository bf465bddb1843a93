// Package router stands in for OpenShift's ingress router on the local clusters, so that
// passthrough Routes (DirectVolumeMigration's default endpoint) are exercised for real: it
// installs the Route API (a CRD with the fields Ferry uses, since the real API is served by
// openshift-apiserver), admits each Route under a domain as the router does (status.ingress
// with Admitted=True and the host), and runs HAProxy (Debian's, the same engine as
// OpenShift's router) as a pod of the cluster that passes TLS connections on port 443 through
// to the Route's Service by SNI, without decrypting them.
//
// Trade-offs: there is no DNS, so Route hosts are registered in the client cluster's process
// node (node.SetHost) pointing at the router pod's IP, like a wildcard DNS record would; the
// router pod is recreated when the set of Routes changes (OpenShift's router reloads instead);
// only passthrough termination is supported, which is all Ferry creates.
package router
