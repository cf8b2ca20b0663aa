#!/usr/bin/env bash
# One command that sets up a fresh Debian bookworm machine for development and tests: Debian's
# Chromium (end-to-end tests), Mesa 25's Vulkan software rasteriser from bookworm-backports (WebGPU
# tests on Dawn without a GPU), python3-onnx (optional fixture checks), then `npm ci`. Root (or
# sudo) is needed for apt; what is already installed is skipped. `.ci/run` calls it too.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then apt_get() { sudo apt-get "$@"; }; else apt_get() { apt-get "$@"; }; fi
as_root() { if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo "$@"; else "$@"; fi; }

export DEBIAN_FRONTEND=noninteractive
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import onnx' >/dev/null 2>&1 || need_apt+=(python3-onnx)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  apt_get update -q
  apt_get install -y -q --no-install-recommends "${need_apt[@]}"
fi

# Dawn (the webgpu package) needs a Vulkan 1.1+ driver: bookworm's Mesa 22 lavapipe is too old,
# Mesa 25 from bookworm-backports works. Same mirror and key as the machine's own Debian source.
mesa_major=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed 's/^[0-9]*://' | cut -d. -f1 || true)
if [ "${mesa_major:-0}" -lt 25 ] 2>/dev/null; then
  echo "setup: installing mesa-vulkan-drivers from bookworm-backports (found '${mesa_major:-none}')"
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    key=$(awk '/^Signed-By:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    as_root tee /etc/apt/sources.list.d/marsfm-backports.sources >/dev/null <<SRC
Types: deb
URIs: ${uri:-http://deb.debian.org/debian}
Suites: bookworm-backports
Components: main
Signed-By: ${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
SRC
  fi
  apt_get update -q
  apt_get install -y -q --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1
fi

npm ci
