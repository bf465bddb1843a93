#!/usr/bin/env bash
# Builds the pinned S3-compatible test server (versitygw) from the Go module proxy into
# bin/s3. It is rebuilt only when its wrapper module (hack/tools/versitygw) changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/s3"
mod="$root/hack/tools/versitygw"
mkdir -p "$out"

version=$(awk '$1=="github.com/versity/versitygw"{print $2; exit}' "$mod/go.mod")
if [ -x "$out/versitygw" ] && [ "$out/versitygw" -nt "$mod/go.mod" ] && [ "$out/versitygw" -nt "$mod/go.sum" ]; then
  echo ">> versitygw $version is up to date in $out"
  exit 0
fi
echo ">> building versitygw $version"
(cd "$mod" && go build -trimpath -ldflags "-s -w" -o "$out/versitygw" github.com/versity/versitygw/cmd/versitygw)
echo ">> versitygw ready in $out"
