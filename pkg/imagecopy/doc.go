// Package imagecopy copies images from one registry to another with go-containerregistry: the
// engine of DirectImageStreamMigrations, which copy the images of an ImageStream (every
// tag's history, by digest) from the source cluster's registry to the destination's.
//
// NewRegistry turns an Endpoint (host, token, TLS settings, proxy) into a Registry whose
// transport is built once; Copier.CopyImages copies a list of images (manifests by digest,
// with the tags to point at them) from repositories of one Registry into one repository of
// another, and returns a Result (bytes copied, skipped, mounted; manifests written). Errors
// name the registry, repository and image; Classify turns them into a condition reason and
// says whether to retry.
//
// A copy goes in two steps. First every manifest is read: from the destination when it holds
// it already (that image is done, its blobs are known to be there), else from the source, and
// an index's child manifests likewise. Then the blobs of all images move together, Jobs at a
// time, each once however many images share it, and each manifest is written as soon as what
// it references is at the destination (an index after its children), under its tags.
//
// # Implementation considerations
//
//   - Exact copies. Manifests are written as the bytes read, so digests and signatures over
//     them stay valid, and checked against the digest asked for (go-containerregistry checks a
//     manifest read by digest, and so does verifyDigest, for the destination's copy too).
//     Blobs stream from the source straight into the upload, never to disk; go-containerregistry's
//     reader hashes them and the size is checked against the manifest, and the destination
//     verifies the digest once more when the upload is committed. Docker schema 2 and OCI
//     images, Docker manifest lists and OCI indexes are copied; Docker schema 1 is refused
//     with its name (current registries reject it). Foreign layers (Windows base images) stay
//     where their URLs point, as registries expect.
//   - Whole streams at once. skopeo sync, and go-containerregistry's remote.Write, copy image
//     after image, each with its layers in parallel: the images of a stream share their base
//     layers, so after the first image only one or two layers move at a time. CopyImages
//     schedules the blobs of every image in one pool, so Jobs blobs move whenever there are
//     that many left (make bench-image measures it against skopeo sync). The Copy method is
//     the same for one image.
//   - Resuming is skipping. A manifest is only written after everything it references, so a
//     manifest at the destination means a complete image: a copy run again (after a failure,
//     an interruption or an operator restart) reads one manifest per image there, touches no
//     source blob for it, and only moves the blobs missing for the others. Blobs are skipped
//     by go-containerregistry's upload, which asks the destination (HEAD) first.
//   - Mounts. go-containerregistry mounts a blob (POST with mount and from: one request, no
//     data) only for a remote.MountableLayer whose reference names another repository of the
//     same registry; it then adds pull access to that repository to its token, and when the
//     registry refuses the mount (202 instead of 201) it uploads in the same session. Mounts
//     remembers where the Copier put blobs, and callers may seed it: a copy into a second
//     repository of the destination mounts the shared layers rather than uploading them.
//     Within one registry the source repository is the mount source. A hinted blob gets its
//     own HEAD first, as a mount answers 201 whether the repository held the blob or not, and
//     Result counts skips and mounts apart.
//   - Own orchestration over go-containerregistry's pieces. remote.Write and MultiWrite would
//     copy too, but they say nothing of what was skipped, mounted or uploaded, read manifests
//     through their own model, and schedule per image. Here a remote.Puller reads the source
//     and a remote.Pusher uploads blobs (Upload) and writes manifests (Put) without deciding
//     anything; both are made per copy, since the Pusher remembers blobs it uploaded and a
//     long-lived one would skip a blob deleted since.
//   - Progress. go-containerregistry's remote.WithProgress sends on a channel for every chunk
//     (a slow reader slows the copy), counts manifests and skipped blobs as written bytes, and
//     has one total per write. Copier.Progress is a callback over the whole copy, called at
//     most every 100 ms while data moves and when something completes, one call at a time.
//   - Transport (endpoint.go). Built once per Endpoint and shared: HTTP/1.1, so parallel
//     blobs get a TCP connection each rather than sharing one HTTP/2 flow-control window (Go's
//     server grants uploads 1 MiB per connection); timeouts on dialing, TLS handshakes and
//     response headers; the CA bundle on top of the system roots; the proxy the caller names,
//     never the environment's. go-containerregistry tries plain HTTP next to HTTPS for
//     loopback and private addresses (a cluster registry's Service IP is one), which would
//     send the token in clear text: a guard refuses any request in the other scheme, and
//     PlainHTTP has to be asked for.
//   - Errors (classify.go). Each copy first asks both registries for /v2/ itself, so that an
//     unreachable or untrusted registry fails with the network's typed error (the handshake of
//     go-containerregistry may report its HTTPS and HTTP attempts as one untyped error, whose
//     words are read as a fallback). Registry answers are read with transport.Error's status
//     and OCI codes. A failure that dooms every image (a registry unreachable or untrusted,
//     credentials refused, a quota, pushes denied) stops the copy; others (an image pruned at
//     the source, a repository it may not read) fail their images only, and the error joins
//     one per image.
//   - Stalls. Requests have no overall deadline, since a blob may take minutes; a blob whose
//     data stops flowing for StallTimeout is cancelled instead, and the failure names the side
//     that stopped (a read from the source under way, or the upload not taking data).
//
// Not copied: signatures and attestations stored as separate manifests that refer to an image
// (OCI referrers, cosign tags), as an ImageStream does not list them; and blobs are never
// mounted across registries (the distribution spec's origin parameter is not used).
package imagecopy
