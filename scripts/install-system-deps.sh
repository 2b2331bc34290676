#!/usr/bin/env bash
# Installs the Debian packages the tests and the service need (GDAL's command-line
# tools, Chromium for browser tests, a CJK font for map images, QGIS with its Python
# bindings for the OGC API client test) and the benchmarks' (wrk, and GDAL's Python
# bindings for the peer), only when missing.
set -euo pipefail
missing=()
command -v ogrinfo >/dev/null 2>&1 || missing+=(gdal-bin)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || missing+=(qgis python3-qgis)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || missing+=(fonts-wqy-zenhei)
# benchmarks/peers.py: the load tool, and the peer's (pygeoapi's) GDAL bindings and venv.
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "from osgeo import ogr" 2>/dev/null || missing+=(python3-gdal)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
# PostgreSQL + PostGIS for the PostGIS store (scripts/db.sh), libpq for psycopg.
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || missing+=(postgresql-postgis)  # bookworm: postgresql-15-postgis-3
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
ls /usr/lib/*/libpq.so.5 >/dev/null 2>&1 || missing+=(libpq5)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
