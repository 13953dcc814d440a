#!/usr/bin/env bash
# Installs the Debian packages the test suite drives: real browsers (Tor Browser's engine,
# Firefox ESR, and Chromium), tor for the private-network test, age, gpg and GNU time for
# benchmarks, mat2 for metadata stripping, PostgreSQL for the second database backend, nginx
# as the front server (with headers-more, to drop its Server header).
set -euo pipefail
packages=(firefox-esr chromium tor nginx libnginx-mod-http-headers-more-filter age gnupg time mat2 postgresql)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
