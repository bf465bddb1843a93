// Package directimagemigration runs DirectImageMigrations: for the namespaces of a migration
// it lists the source cluster's ImageStreams and creates one DirectImageStreamMigration (DISM)
// per stream, which copies the stream's images registry to registry; it then follows the
// DISMs, sorts the streams into successful, failed and deleted, and sums their progress.
//
// A reconcile reads the DIM without a cache, validates it with MTC's conditions
// (validate.go), runs its itinerary with pkg/itinerary and patches the status subresource
// under optimistic locking. Itineraries (MTC's names): PVC (MTC's name for its main
// itinerary, kept because status.itinerary is visible) runs Started, Prepare,
// CreateDestinationNamespaces, ListImageStreams, CreateDirectImageStreamMigrations and
// WaitingForDirectImageStreamMigrationsToComplete; Failed runs MigrationFailed.
//
// # Controller considerations
//
//   - Crash safety: a DISM's name is derived from the DIM's name and the stream's namespace
//     and name, and is written to status.newISs[].directMigration before the DISM is
//     created, so a reconcile that died half-way finds what it created, and never makes two.
//   - Watches: owned DISMs wake the DIM when their status changes (MTC's rule), and a poll
//     every few seconds keeps the summed progress fresh while copies run.
//   - A stream that vanished from the source before its DISM was created is marked notFound
//     and listed in deletedISs: nothing of it can be copied, and nothing failed. A DISM that
//     failed makes the DIM fail once every DISM has ended, so one broken stream does not
//     stop the copy of the others.
package directimagemigration
