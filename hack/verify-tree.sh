#!/usr/bin/env bash
# Fails when the repository tracks a built binary or a large file. bin/ is git-ignored, but a
# `go build ./test/bench/x` in the root leaves a binary named after the package there, and one
# such binary (150 MB) was once committed by mistake.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
limit=$((1 << 20))
# The tracked files that exist in the working tree.
tracked() { { git ls-files -z | xargs -0 -r stat -c '%n' 2>/dev/null || true; } | tr '\n' '\0'; }
status=0
binaries=$(tracked | xargs -0 -r grep -l -m1 -P '^\x7fELF' || true)
if [ -n "$binaries" ]; then
	echo "tracked executables (built binaries belong in bin/, which is ignored):" $binaries
	status=1
fi
large=$(tracked | xargs -0 -r stat -c '%s %n' | awk -v limit="$limit" '$1 > limit { print $2 }')
if [ -n "$large" ]; then
	echo "tracked files over 1 MiB:" $large
	status=1
fi
exit "$status"
