#!/usr/bin/env bash
# Builds the pinned Velero server (and its restore helper) and its AWS object-store plugin from the Go module proxy
# into bin/velero (the test Velero servers of test/velero run them). Each binary is rebuilt
# only when its wrapper module (hack/tools/velero/server or hack/tools/velero/plugin-for-aws)
# changed (or this script did). Both are static (CGO_ENABLED=0), as upstream builds them, so
# that hack/images can ship them in images without a C library. bin/velero/plugins holds the
# AWS plugin and nothing else: Velero runs every executable in its plugin directory as a plugin.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/velero"
server_mod="$root/hack/tools/velero/server"
plugin_mod="$root/hack/tools/velero/plugin-for-aws"
plugin=velero-plugin-for-aws
mkdir -p "$out/plugins"

fresh() { # fresh BINARY MODULE_DIR: the binary exists and is newer than its go.mod/go.sum and this script
  [ -x "$1" ] && [ "$1" -nt "$2/go.mod" ] && [ "$1" -nt "$2/go.sum" ] && [ "$1" -nt "$0" ]
}
export CGO_ENABLED=0

velero_version=$(awk '$1=="github.com/vmware-tanzu/velero"{print $2; exit}' "$server_mod/go.mod")
# DefaultBindAddress=0 turns off the metrics server that controller-runtime would otherwise
# bind on :8080 (all interfaces, no flag to change it), so that several Velero servers can
# run on one host; Velero serves its own metrics on --metrics-address.
ldflags="-s -w -X sigs.k8s.io/controller-runtime/pkg/metrics/server.DefaultBindAddress=0 \
 -X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=$velero_version"
if fresh "$out/velero" "$server_mod"; then
  echo ">> velero $velero_version is up to date in $out"
else
  echo ">> building velero $velero_version"
  (cd "$server_mod" && go build -trimpath -ldflags "$ldflags" -o "$out/velero.tmp" github.com/vmware-tanzu/velero/cmd/velero)
  mv "$out/velero.tmp" "$out/velero"
fi

# The restore helper is the init container Velero adds to pods whose volumes a file-system
# restore fills (it waits for the node-agent's done files); the process nodes run it.
if fresh "$out/velero-restore-helper" "$server_mod"; then
  echo ">> velero-restore-helper $velero_version is up to date in $out"
else
  echo ">> building velero-restore-helper $velero_version"
  (cd "$server_mod" && go build -trimpath -ldflags "-s -w" -o "$out/velero-restore-helper.tmp" github.com/vmware-tanzu/velero/cmd/velero-restore-helper)
  mv "$out/velero-restore-helper.tmp" "$out/velero-restore-helper"
fi

plugin_version=$(awk '$1=="github.com/vmware-tanzu/velero-plugin-for-aws"{print $2; exit}' "$plugin_mod/go.mod")
if fresh "$out/plugins/$plugin" "$plugin_mod"; then
  echo ">> $plugin $plugin_version is up to date in $out/plugins"
else
  echo ">> building $plugin $plugin_version"
  # Built beside plugins/ and moved in, so that a Velero server never sees a partial file.
  (cd "$plugin_mod" && go build -trimpath -ldflags "-s -w" -o "$out/$plugin.tmp" "github.com/vmware-tanzu/velero-plugin-for-aws/$plugin")
  mv "$out/$plugin.tmp" "$out/plugins/$plugin"
fi
# Anything else in plugins/ (an older plugin, a stray file) would be run as a plugin too.
find "$out/plugins" -mindepth 1 ! -name "$plugin" -exec rm -rf {} +
echo ">> velero and $plugin ready in $out"
