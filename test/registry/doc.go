// Package registry gives a local test cluster (test/controlplane, test/migenv) what OpenShift's
// internal image registry gives a cluster: a real registry that checks the cluster's tokens
// and RBAC, the ImageStream API, and ImageStreams whose status follows what is pushed, so
// that image migration (ImageStreams copied registry to registry with go-containerregistry)
// and pods running pushed images (test/node) can be tested for real.
//
//	r, err := registry.Start(ctx, cp, registry.Options{Name: "source", Logf: t.Logf})
//	defer r.Stop()
//	digest, err := r.PushRandomImage(ctx, "ns/app", "latest", registry.ImageSpec{
//		LayerSizes: []int64{1 << 20}, Entrypoint: []string{"sleep", "3600"}})
//	// ImageStream ns/app now has status.tags[latest] at digest;
//	// r.Address and r.CAPEM go into a MigCluster's exposedRegistryPath and caBundle;
//	// pods name the image registry.InternalHost + "/ns/app@" + digest.
//
// # Design
//
//   - The registry is the CNCF distribution registry (the project OpenShift's registry is
//     built on), pinned and built by `make registry` into bin/registry (FERRY_REGISTRY_BIN
//     overrides the directory; a missing binary fails with the command that builds it, like
//     test/s3). It runs as a host process in its own process group with Pdeathsig, plain
//     HTTP on a free 127.0.0.1 port (bound by port 0 and released, a short race: Start tries
//     another port when the process exits early), filesystem storage in a temporary
//     directory, its log next to it. Stop sends SIGTERM, SIGKILL after 10 s, and removes the
//     directory (kept with FERRY_KEEP_LOGS=1). Its configuration uses relative Location
//     headers, since it does not know the address clients use; REGISTRY_* and OTEL_*
//     variables are removed from its environment and its trace exporter turned off.
//   - In front of it, in the test process, an HTTPS server (net/http, a certificate for
//     127.0.0.1, localhost and InternalHost's name, signed by a fresh CA: CAPEM) plays
//     OpenShift's registry access controller. Credentials are a Kubernetes token, as the
//     password of HTTP Basic auth with any user name (`docker login -u x -p $(oc whoami
//     -t)`) or as a bearer token; a TokenReview on the cluster's API server validates it.
//     GET /v2/ (the ping) and /v2/_catalog need a valid token only; a pull (GET, HEAD) of
//     /v2/<ns>/<name>/... needs verb get, a push (POST, PUT, PATCH, DELETE) verb update, on
//     imagestreams/layers (group image.openshift.io) in namespace <ns>, checked with a
//     SubjectAccessReview carrying the token's user, groups and extra, as OpenShift does. A
//     cross-repository blob mount also needs get on the source repository, else the mount is
//     dropped and the registry answers with a plain upload. Missing or invalid credentials
//     get 401 with `WWW-Authenticate: Basic realm="openshift"` and
//     `Docker-Distribution-API-Version: registry/2.0`, which start clients' auth flow (and
//     which Ferry's MigCluster probe takes as "a registry is there"); a denial gets 403 with
//     the registry API's {"errors":[{"code":"DENIED",...}]}; an API server that cannot be
//     asked gets 503 UNAVAILABLE. Allowed requests go through httputil.ReverseProxy, which
//     streams bodies both ways (nothing is buffered, blobs of any size pass). Successful
//     reviews are reused for 5 s per token (and per token, namespace, name and verb), so a
//     push of many blobs makes one review of each kind, while a revoked grant takes effect
//     within 5 s and a denial is never cached. Options.NoAuth turns all of this off (for
//     benchmarks). Repository names must be <namespace>/<name> (OpenShift's rule).
//   - The ImageStream API is a CRD (imagestreams.crd.yaml, embedded): image.openshift.io/v1
//     ImageStream, namespaced, short name is, status subresource, with a schema of the fields
//     of OpenShift's published types that matter here (spec.lookupPolicy, spec.tags with
//     from, annotations, reference, referencePolicy, importPolicy; status repositories and
//     tags with items and conditions), unknown fields preserved. OpenShift's subresources
//     (imagestreams/layers, /secrets) are not served, which does not matter: RBAC rules and
//     SubjectAccessReviews name resources and subresources whether or not an API serves
//     them. The repository does not depend on github.com/openshift/api: ImageStreams are
//     unstructured objects. The first write of a new CRD's kind takes the API server about
//     2 s; InstallImageStreamAPI takes that wait with a dry-run create. It installs
//     OpenShift's BuildConfig API too (buildconfigs.crd.yaml, schemaless but for its
//     top-level fields): no build runs, but BuildConfigs migrate and are pointed at the
//     destination registry as on OpenShift.
//   - The image controller plays OpenShift's: every ImageStream gets
//     status.dockerImageRepository InternalHost/<ns>/<name> (the same host on every cluster,
//     as in OpenShift), status.publicDockerImageRepository Address/<ns>/<name>, and
//     status.tags from the registry (tags list and a HEAD of each tag's manifest, on the
//     registry process directly): a tag whose digest changed gets a new item on top (newest
//     first, generation above the previous item's, dockerImageReference
//     InternalHost/<ns>/<name>@<digest>, image <digest>); an older item with that digest is
//     moved, not repeated; tags the registry no longer holds keep their history. As
//     OpenShift's registry does, a manifest pushed to <ns>/<name> creates that ImageStream
//     when it is missing and the namespace exists (only on a push: an ImageStream deleted
//     afterwards stays deleted). Promptness: the registry's notifications (manifest push and
//     delete events) are posted to an HTTP endpoint of the test process, which syncs the
//     repository at once (measured: the status is written about 30 ms after the event,
//     which arrives about when the push returns); every ImageStream is also resynced every
//     2 s (Options.ResyncInterval) as a backstop for lost events and for ImageStreams
//     created before any push. Status goes through the status subresource; a conflict is
//     retried.
//   - The registry has clients of its own (100 requests a second): the control plane's admin
//     clients share a client-side limit of 5 a second with the test.
//   - Helpers: RandomLayer (a gzipped tar of one file of random bytes, digests computed
//     once, so layers shared by several images cost one build), RandomImage and RandomIndex
//     (an image's config carries Entrypoint, Cmd and User, and node.HostCommandLabel, so that
//     a process node runs the entrypoint as a host command rather than from the random
//     layers; an index holds one OCI image per platform), PushRandomImage, Push,
//     PushIndex and Digest, all with AdminToken, the token of a cluster-admin ServiceAccount
//     (openshift-image-registry/registry-admin) that Start mints.
//   - Registry implements test/node's ImageResolver: images at InternalHost or Address are
//     resolved through the front with the admin token (manifest, the image of this machine's
//     platform for an index, and config), giving the node their digest, entrypoint, command,
//     numeric user and the image itself, whose layers the node unpacks. A kubelet would pull with the pod's image pull secrets (OpenShift's
//     per-ServiceAccount dockercfg Secrets); the process node has no such Secrets, so pods'
//     pulls are not checked against their namespace's rights.
//
// # Trade-offs
//
// The front runs in the test process rather than as OpenShift's registry middleware inside
// the registry: the registry stays the unmodified pinned binary, and the front can use the
// harness's clients. The price is a second hop on loopback through the proxy, whose cost
// has not been measured. The image controller polls the registry's tags on every
// resync instead of keeping an index: a few requests per stream every 2 s, negligible at test
// sizes.
//
// # Not supported
//
// Image imports (spec.tags from DockerImage or other streams are not resolved into status),
// the image.openshift.io kinds besides ImageStream (Image, ImageStreamTag, ImageStreamImage,
// ImageStreamMapping, ImageStreamImport), the registry's token endpoint (/openshift/token;
// clients use Basic or bearer credentials directly), pull-through of external images,
// pruning, quotas, anonymous pulls (system:unauthenticated grants), and signatures.
package registry
