// Package migview computes what a running migration looks like to a person: each pipeline
// step's state, one row per volume (percent, bytes, rate, time left) and per image stream, and
// the migration's outcome. It is pure (API objects in, values out) so that the ferry CLI's live
// view (pkg/cli) and the web console (pkg/console) show the same numbers from the same code,
// and so that it is tested with tables rather than against an API server.
package migview
