// Package migrun runs the itinerary of a migration object whose status is MTC's plain
// record: phase, itinerary, errors, startTimestamp, observedGeneration and the Running,
// Succeeded and Failed conditions (DirectImageMigration, DirectImageStreamMigration). It
// picks the main or the failure itinerary, runs pkg/itinerary from the persisted cursor,
// records a failure durably, computes the conditions in one place and says when to come back.
//
// Trade-offs: the API types carry no methods beyond their conditions (api/ holds types only),
// so a controller hands its status fields in as pointers (Status). MigMigration and
// DirectVolumeMigration keep their own runners: they persist more (a pipeline, a no-progress
// watchdog) than this record holds.
package migrun
