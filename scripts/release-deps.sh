#!/usr/bin/env bash
# release-deps.sh: makes sure the shared oracle's build-postfix can build upstream Postfix
# releases (make test runs the conformance suite against 3.5.27, 3.10.13 and 3.11.6). When the
# compiler, make, m4 or the OpenSSL / Berkeley DB headers are missing it runs
# "build-postfix --deps" (apt-get, root). Missing things fail loudly, never skip: with no
# shared oracle, or without root, it exits 1.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ORACLE="${CONFORMANCE_ORACLE:-}"
if [ -z "$ORACLE" ]; then
  for d in "$HERE/../shared/oracle" /work/shared/oracle; do
    [ -x "$d/build-postfix" ] && { ORACLE="$(cd "$d" && pwd)"; break; }
  done
fi
if [ -z "$ORACLE" ] || [ ! -x "$ORACLE/build-postfix" ]; then
  echo "release-deps: no shared oracle with build-postfix (set CONFORMANCE_ORACLE)" >&2
  exit 1
fi
missing=()
for cmd in gcc make m4; do command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd"); done
for h in /usr/include/openssl/ssl.h /usr/include/db.h; do [ -e "$h" ] || missing+=("$h"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "release-deps: missing ${missing[*]}; run as root: $ORACLE/build-postfix --deps" >&2
  exit 1
fi
echo "release-deps: missing ${missing[*]}: $ORACLE/build-postfix --deps"
"$ORACLE/build-postfix" --deps
