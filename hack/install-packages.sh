#!/usr/bin/env bash
# Installs the Debian packages the local clusters need when a command is missing: rsync and
# stunnel (volume transfers), iproute2 (the process nodes' network namespaces), curl (hook
# images in the tests), ansible-core (playbook hooks), iptables (the process nodes enforce
# NetworkPolicies with it), tinyproxy (an HTTP CONNECT proxy for stunnel_tcp_proxy tests),
# haproxy (the stand-in OpenShift router of test/router), skopeo (what `make bench-image`
# compares Ferry's image copy with), openssh-client and openssh-server (rsync over ssh, the
# peer transport `make bench-transfer` compares with) and chromium (the browser test/console
# drives headless). Needs root (or sudo) and apt.
set -euo pipefail

declare -A packages=(
  [rsync]=rsync
  [stunnel]=stunnel4
  [ip]=iproute2
  [curl]=curl
  [ansible-playbook]=ansible-core
  [iptables-legacy]=iptables
  [tinyproxy]=tinyproxy
  [haproxy]=haproxy
  [skopeo]=skopeo
  [ssh]=openssh-client
  [chromium]=chromium
)
missing=()
for cmd in "${!packages[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${packages[$cmd]}")
done
# sshd is in /usr/sbin, which a non-root user's PATH may lack; the benchmark runs it by that
# path.
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
# hack/images downloads the transfer image's .deb files with apt-get download, which needs
# the package lists even when every command above is present.
if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
  echo ">> apt package lists missing: apt-get update"
  $sudo apt-get update -qq
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo ">> system packages present"
  exit 0
fi
echo ">> installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
