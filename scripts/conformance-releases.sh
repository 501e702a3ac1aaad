#!/bin/bash
# conformance-releases.sh RELEASE...
#   Runs TestConformance once per RELEASE (CONFORMANCE_POSTFIX=RELEASE: "debian" for the Debian
#   package, a version such as 3.11.6 built from the shared oracle's src/postfix-VERSION.tar.gz
#   and cached, or the path of a build-postfix tree), one after the other, and prints
#       RELEASE: N passed, N failed (build/cache Ns, run Ns)
#   per release, "RELEASE: skipped: WHY" for a release that cannot be built here (Postfix 2.x
#   against OpenSSL 3), "RELEASE: BUILD FAILED ..." / "RELEASE: ERROR ..." loudly otherwise, and a
#   total line. --all: "debian" and every version in the oracle's src/ (make conformance-all).
#   The whole go test output of each release is kept in $CONFORMANCE_LOGS (default: a fresh
#   directory under /tmp), CONFORMANCE_OUT_DIR=DIR writes DIR/RELEASE.jsonl (CONFORMANCE_OUT).
#   Exit status 1 when any release failed, errored or did not build; skipped releases do not count.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GO="${GO:-go}"
ORACLE="${CONFORMANCE_ORACLE:-}"
if [ -z "$ORACLE" ]; then
  for d in "$HERE/../shared/oracle" /work/shared/oracle; do
    [ -x "$d/build-postfix" ] && { ORACLE="$(cd "$d" && pwd)"; break; }
  done
fi
export CONFORMANCE_ORACLE="$ORACLE"

if [ "${1:-}" = --all ]; then
  shift
  [ -n "$ORACLE" ] && [ -d "$ORACLE/src" ] || { echo "conformance-releases: no shared oracle (set CONFORMANCE_ORACLE)" >&2; exit 1; }
  set -- debian $(ls "$ORACLE"/src/postfix-*.tar.gz | sed 's,.*/postfix-,,; s,\.tar\.gz$,,' | sort -t. -k1,1n -k2,2n -k3,3n) "$@"
fi
[ $# -gt 0 ] || { echo "usage: conformance-releases.sh [--all] RELEASE..." >&2; exit 2; }

LOGS="${CONFORMANCE_LOGS:-$(mktemp -d /tmp/conformance-releases.XXXXXX)}"
mkdir -p "$LOGS"
BIN="$LOGS/conformance.test"
echo "conformance-releases: ${*}; logs in $LOGS"
(cd "$HERE" && "$GO" test -c -o "$BIN" ./internal/conformance/) || { echo "conformance-releases: go test -c failed" >&2; exit 1; }

tp=0 tf=0 bad=0 skipped=0 summary=()
T0=$(date +%s)
for r in "$@"; do
  label="$r"
  log="$LOGS/$(echo "$label" | tr '/' '_').log"
  out=()
  [ -z "${CONFORMANCE_OUT_DIR:-}" ] || { mkdir -p "$CONFORMANCE_OUT_DIR"; out=(CONFORMANCE_OUT="$CONFORMANCE_OUT_DIR/$(echo "$label" | tr '/' '_').jsonl"); }
  t0=$(date +%s)
  (cd "$HERE/internal/conformance" && env CONFORMANCE_POSTFIX="$r" "${out[@]}" "$BIN" -test.count=1 -test.timeout 40m \
      -test.run '^TestConformance$' -test.v) >"$log" 2>&1
  rc=$?
  t1=$(date +%s)
  ready="$(sed -n 's/^release [^ ]*: .* ready in \(.*\)$/\1/p' "$log" | head -1)"
  counts="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)"
  if line="$(grep -m1 -E '^release [^ ]*: skipped: ' "$log")"; then
    l="$label: skipped: ${line#*skipped: }"
    skipped=$((skipped + 1))
  elif line="$(grep -m1 -E '^release [^ ]*: BUILD FAILED' "$log")"; then
    l="$label: BUILD FAILED (see $log): ${line#*BUILD FAILED: }"
    bad=$((bad + 1))
  elif [ -n "$counts" ]; then
    p="${counts%% passed*}" f="${counts#*passed, }"; f="${f%% failed}"
    tp=$((tp + p)) tf=$((tf + f))
    l="$label: $counts (build/cache ${ready:-?}, run $((t1 - t0)) s)"
    if [ "$f" != 0 ]; then
      bad=$((bad + 1))
      grep -E -- '^\s*--- FAIL: TestConformance/cases/' "$log" | sed 's/^ */    /' | head -40
    fi
  else
    l="$label: ERROR: no result (exit $rc, see $log)"
    grep -E -- '_test.go:|^(FAIL|panic)' "$log" | head -20
    bad=$((bad + 1))
  fi
  echo "$l"
  summary+=("$l")
done
echo "---"
printf '%s\n' "${summary[@]}"
echo "total: $tp passed, $tf failed over $(( $# - skipped )) releases ($skipped skipped, $bad not clean) in $(( $(date +%s) - T0 )) s"
[ "$bad" = 0 ]
