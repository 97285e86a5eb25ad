#!/usr/bin/env bash
# Installs the independent peers the tests use, when they are missing:
# PHP with ext/soap (interop), xmllint (XSD validation), xmlsec1 (evidence
# signatures), redis-server (stores; the Sentinel test runs it as
# `redis-server --sentinel`, so Debian's redis-sentinel, a symlink to the
# same binary plus a service, is not needed), python3-jsonschema (the results JSON
# Schema agreement test; it runs Debian's /usr/bin/python3, not one on PATH),
# chromium (the web page's browser test, headless), node and npm (the
# research export's Data Package validator). Debian packages first; then
# the validator's npm module (datapackage, pinned in
# scripts/datapackage/package-lock.json) into scripts/datapackage/node_modules.
set -euo pipefail
missing=()
command -v php >/dev/null 2>&1 && php -m 2>/dev/null | grep -qx soap || missing+=(php-cli php-soap php-xml)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1 || missing+=(python3-jsonschema)
[ -x /usr/bin/chromium ] || missing+=(chromium)
{ command -v node && command -v npm; } >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing ${missing[*]}; install them with your package manager (Debian: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The Data Package validator of gateway/research's tests.
dp="$(cd "$(dirname "$0")" && pwd)/datapackage"
if [ ! -f "$dp/node_modules/datapackage/package.json" ]; then
  echo "deps: installing the npm module datapackage into $dp" >&2
  (cd "$dp" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
