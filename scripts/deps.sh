#!/usr/bin/env bash
# Installs the independent peers the tests use, when they are missing:
# PHP with ext/soap (interop), xmllint (XSD validation), xmlsec1 (evidence
# signatures), redis-server (stores), python3-jsonschema (the results JSON
# Schema agreement test; it runs Debian's /usr/bin/python3, not one on PATH),
# chromium (the web page's browser test, headless). Debian packages only.
set -euo pipefail
missing=()
command -v php >/dev/null 2>&1 && php -m 2>/dev/null | grep -qx soap || missing+=(php-cli php-soap php-xml)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1 || missing+=(python3-jsonschema)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: missing ${missing[*]}; install them with your package manager (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
