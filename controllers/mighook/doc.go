// Package mighook reconciles MigHooks: it validates a hook's spec with MTC's rules and reports
// the result in MTC's conditions (InvalidImage, InvalidTarget, InvalidPlaybookData,
// InvalidCustomHook, InvalidAnsibleHook, Ready) plus Ferry's InvalidActiveDeadline, and sets
// status.observedGeneration. It runs nothing: hooks are executed by the MigMigration
// controller.
//
// # Implementation considerations
//
//   - Validation is a pure function of the spec (conditionsFor in mighook_status.go): every
//     rule runs, as in MTC, so a user sees all problems of a hook at once. The controller reads
//     nothing else, so it watches only MigHooks, filtered to spec changes
//     (GenerationChangedPredicate), and never requeues on a timer.
//   - Image references are checked against the grammar of github.com/distribution/reference
//     (the module MTC copied its regexp from), re-stated here as a regexp because that module
//     is not in Ferry's module graph; digests are checked for shape only, not algorithm.
//   - Beyond MTC, the playbook of an Ansible hook must decode to YAML that is a non-empty list
//     (a playbook is a list of plays), so a wrong playbook fails at validation instead of when
//     the hook Job runs mid-migration. Custom hooks must not have a playbook at all
//     (InvalidCustomHook), so only its base64 is checked, as MTC does.
//   - Beyond MTC, a negative spec.activeDeadlineSeconds is reported (InvalidActiveDeadline):
//     a Job with a negative deadline would be rejected by the API server when the hook runs.
package mighook
