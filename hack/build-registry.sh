#!/usr/bin/env bash
# Builds the pinned CNCF distribution registry from the Go module proxy into bin/registry
# (the local clusters' internal image registries and `make bench-image` run it). Rebuilt only
# when its wrapper module (hack/tools/registry) changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/registry"
mod="$root/hack/tools/registry"
mkdir -p "$out"

version=$(awk '$1=="github.com/distribution/distribution/v3"{print $2; exit}' "$mod/go.mod")
if [ -x "$out/registry" ] && [ "$out/registry" -nt "$mod/go.mod" ] && [ "$out/registry" -nt "$mod/go.sum" ]; then
  echo ">> registry $version is up to date in $out"
  exit 0
fi
echo ">> building registry $version"
(cd "$mod" && go build -trimpath -ldflags "-s -w -X github.com/distribution/distribution/v3/version.version=$version" \
  -o "$out/registry.tmp" github.com/distribution/distribution/v3/cmd/registry)
mv "$out/registry.tmp" "$out/registry"
echo ">> registry $version ready in $out"
