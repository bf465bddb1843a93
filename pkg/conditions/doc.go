// Package conditions computes and merges MTC-shaped conditions (api/v1alpha1.Condition).
//
// A controller computes, on every reconcile and in one place (its status.go), the complete list
// of conditions that hold now, and hands it to Apply. Apply keeps MTC's semantics without MTC's
// staging machinery: non-durable conditions that were not asserted again disappear, durable
// ones stay until removed, and LastTransitionTime moves only when a condition's content changed.
//
// # Implementation considerations
//
//   - MTC stores conditions in a custom shape with categories; we keep that shape because users
//     and tools read it, but drop MTC's in-message "[items]" rewriting: messages are final text.
//   - Functions take the time as an argument so that callers (and tests) control the clock.
//   - Changed reports what a reconcile changed so that controllers can emit one event per
//     transition instead of one per reconcile.
//   - PatchStatus writes a merge patch; PatchStatusLocked adds the resourceVersion of the read
//     the status was computed from, for objects whose status is a cursor (a migration): a merge
//     patch replaces lists whole, so a stale computation would otherwise put back old ones.
package conditions
