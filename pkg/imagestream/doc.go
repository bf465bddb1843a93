// Package imagestream reads OpenShift's ImageStreams (image.openshift.io/v1) without
// depending on OpenShift's Go types: the few fields image migration needs are decoded from
// unstructured objects. It decides which images of a stream are stored in the cluster's
// internal registry (and so must be copied), and rewrites image references of workloads from
// the source cluster's internal registry to the destination's.
//
// Trade-offs: github.com/openshift/api would bring typed ImageStreams, but its module is
// large, versioned as +incompatible, and the API is only read here through a handful of
// status fields, so an unstructured decode of those fields is smaller and cannot drift from
// what a cluster serves. Clusters that do not serve the API have no ImageStreams; callers
// check discovery (a List of an unserved kind fails with a no-match error, IsNotServed).
package imagestream
