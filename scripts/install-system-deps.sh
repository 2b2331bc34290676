#!/usr/bin/env bash
# Installs the Debian packages the tests and the service need (GDAL's command-line
# tools, Chromium for browser tests, a CJK font for map images, QGIS with its Python
# bindings for the OGC API client test), only when missing.
set -euo pipefail
missing=()
command -v ogrinfo >/dev/null 2>&1 || missing+=(gdal-bin)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || missing+=(qgis python3-qgis)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || missing+=(fonts-wqy-zenhei)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
