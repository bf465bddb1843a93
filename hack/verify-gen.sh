#!/usr/bin/env bash
# Fails when the generated files (deepcopy, CRDs, RBAC, the OLM bundle and catalog) differ from what the generators produce
# now. It compares checksums before and after regenerating, so it works on uncommitted trees
# too; the tree is left regenerated either way.
set -euo pipefail
cd "$(dirname "$0")/.."
sums() { find api config pkg/velerodeploy bundle catalog -type f -print0 | sort -z | xargs -0 sha256sum; }
before=$(sums)
make --no-print-directory generate manifests bundle >/dev/null
after=$(sums)
if [ "$before" != "$after" ]; then
  echo "Generated files were stale (now regenerated; review and commit them):"
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u
  exit 1
fi
echo "Generated files are fresh."
