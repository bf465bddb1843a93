// Package mapping owns how a MigPlan names things on both sides of a migration: the
// "src" / "src:dest" mapping syntax of namespaces and PVCs, the plan's namespace map, and
// whether a plan stays inside one cluster. The MigPlan controller validates with it and the
// MigMigration controller acts on it, so both read a plan the same way.
//
// # Implementation considerations
//
//   - Parsing is strict (no whitespace, one colon at most, no empty side) and fuzzed: a
//     mapping that validation accepted must mean the same thing to every later step.
//   - Functions that read a plan skip malformed entries instead of failing: the plan's own
//     validation reports them, and a plan with such an entry never becomes Ready.
package mapping
