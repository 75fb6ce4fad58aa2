#!/usr/bin/env bash
# Install the Debian packages ashyq needs (nftables, iproute2 for the lab; chromium for the web
# UI tests and PDF reports), only those that are missing. Needs root (or sudo) the first time.
set -euo pipefail
packages=(nftables iproute2 chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
