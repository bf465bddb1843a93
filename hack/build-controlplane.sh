#!/usr/bin/env bash
# Builds the pinned control-plane binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd) from the Go module proxy into bin/k8s. Each binary is rebuilt
# only when its wrapper module (hack/tools/k8s or hack/tools/etcd) changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/k8s"
mkdir -p "$out"

k8s_version=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' "$root/hack/tools/k8s/go.mod")
minor=$(echo "$k8s_version" | cut -d. -f2)
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
 -X k8s.io/component-base/version.gitTreeState=clean"

fresh() { # fresh BINARY MODULE_DIR: the binary exists and is newer than its go.mod/go.sum
  [ -x "$out/$1" ] && [ "$out/$1" -nt "$2/go.mod" ] && [ "$out/$1" -nt "$2/go.sum" ]
}

for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  if ! fresh "$cmd" "$root/hack/tools/k8s"; then
    echo ">> building $cmd $k8s_version"
    (cd "$root/hack/tools/k8s" && go build -trimpath -ldflags "$ldflags" -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd")
  fi
done
if ! fresh etcd "$root/hack/tools/etcd"; then
  echo ">> building etcd"
  (cd "$root/hack/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
fi
echo ">> control plane binaries ready in $out"
