// Package directimagestreammigration runs DirectImageStreamMigrations: it copies the images
// one ImageStream stores in the source cluster's internal registry to the destination
// cluster's registry, under the destination namespace, with pkg/imagecopy
// (go-containerregistry), then makes sure the destination ImageStream exists and that its
// tags resolve to the copied digests.
//
// A reconcile reads the DISM without a cache, validates it with MTC's conditions
// (validate.go), runs its itinerary with pkg/itinerary and patches the status subresource
// under optimistic locking. Itinerary (MTC's phase names, plus one of Ferry's): Started,
// Prepare, MigrateImageStream, EnsureDestinationImageStream, Completed; the Failed itinerary
// is MigrationFailed, Completed.
//
// # Controller considerations
//
//   - Nothing blocks: MTC copied inside Reconcile, minutes long, holding the controller's
//     only worker. Here MigrateImageStream starts the copy in a goroutine of the operator
//     (copies.go), keyed by the DISM's UID, and returns; later reconciles (every 2 s) read
//     its progress into status.progress and, when it ends, its outcome.
//   - Crash safety: the copy is idempotent. After an operator restart the goroutine is gone;
//     the next reconcile of a DISM in MigrateImageStream starts the copy again, and blobs and
//     manifests the destination already holds are skipped (HEAD), so it resumes rather than
//     starts over. Nothing is created on a cluster besides registry content and the
//     destination ImageStream, whose name is the source's.
//   - Credentials: each registry is reached with its MigCluster's token as the password (any
//     user name, as OpenShift's registry takes it), TLS verified against the MigCluster's
//     caBundle unless it says insecure, through the MigrationController's httpsProxy unless
//     noProxy names the registry. The token of the host cluster is the operator's own,
//     re-read from its projected file for each copy (it rotates).
//   - Failures are classified (pkg/imagecopy): an unreachable registry is retried a few
//     times; refused credentials, a forbidden repository, an unknown manifest and a quota are
//     not (another attempt would meet the same answer). The DISM then fails with a Critical
//     Failed condition whose reason names the class, and one line per failed image in
//     status.errors.
package directimagestreammigration
