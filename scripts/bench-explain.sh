#!/usr/bin/env bash
# Issue 16's goal for explain: a 400 MB syslog of real Postfix lines with 200,000
# destinations is explained in at most 64 MB peak memory and at least half the speed of a
# plain awk pass over the same file. In one run, on the same file (in the page cache):
#   A. postfixtls explain FILE (the installed binary's defaults: -max-destinations 10000);
#   B. awk '/status=/ {n++} END {print n}' FILE (Debian's awk, mawk: the plainest pass
#      that reads every line);
#   C. for context, an awk that groups the status lines by recipient domain.
# The log is written by internal/cmd/genmaillog (the real Postfix 3.7.11 lines of
# maillog/testdata/oracle replayed with fresh queue IDs, pids and domains). The runs
# alternate A B C A B C ...; the script prints each one's median wall time and largest
# maximum resident set size (/usr/bin/time -v), and the ratio A/B.
# Usage: scripts/bench-explain.sh [SIZE bytes, default 400000000] [RUNS, default 7]
set -euo pipefail
SIZE=${1:-400000000}
RUNS=${2:-7}
PATH="$PATH:/usr/local/go/bin"
[ -x /usr/bin/time ] || { echo "bench-explain: /usr/bin/time not installed (Debian package time)" >&2; exit 1; }
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/postfixtls" ./cmd/postfixtls
echo "writing a ${SIZE}-byte log with 200000 destinations ..." >&2
go run ./internal/cmd/genmaillog -size "$SIZE" -destinations 200000 -per-recipient -o "$work/mail.log"
ls -l "$work/mail.log" >&2
cat "$work/mail.log" > /dev/null # into the page cache

A=("$work/postfixtls" explain "$work/mail.log")
B=(awk '/status=/ {n++} END {print n}' "$work/mail.log")
C=(awk '/ postfix\/(smtp|qmgr|error)\[[0-9]+\]: [0-9A-F]+: to=</ {split($7, a, "@"); sub(/>,$/, "", a[2]); d[a[2]]++} END {for (k in d) n++; print n}' "$work/mail.log")
"${A[@]}" > "$work/explain.txt" 2>&1 || true # exit 1: failures explained
grep -q '^not shown: ' "$work/explain.txt" || { echo "bench-explain: explain did not count the destinations it left out" >&2; tail "$work/explain.txt" >&2; exit 1; }

# one NAME CMD...: one run, its wall seconds (the shell's clock: /usr/bin/time's wall line
# has 10 ms steps) and maximum resident set size appended to $work/NAME.
one() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$work/$name.v" "$@" > /dev/null 2>&1 || true
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 )) $(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.v")" >> "$work/$name"
}
: > "$work/A"; : > "$work/B"; : > "$work/C"
for _ in $(seq "$RUNS"); do
  one A "${A[@]}"
  one B "${B[@]}"
  one C "${C[@]}"
done
stat() { # median seconds, largest kB
  sort -n "$work/$1" | awk '{t[NR] = $1; if ($2 > m) m = $2} END {printf "%.3f %d", t[int((NR + 1) / 2)] / 1e6, m}'
}
read -r at am <<<"$(stat A)"
read -r bt bm <<<"$(stat B)"
read -r ct cm <<<"$(stat C)"
echo "$(tail -n 2 "$work/explain.txt" | head -n 1)"
printf '%-52s %8s s %9s kB\n' "postfixtls explain (median of $RUNS)" "$at" "$am"
printf '%-52s %8s s %9s kB\n' "awk '/status=/ {n++}' (the plain pass)" "$bt" "$bm"
printf '%-52s %8s s %9s kB\n' "awk grouping status lines by domain" "$ct" "$cm"
awk -v a="$at" -v b="$bt" -v c="$ct" -v m="$am" 'BEGIN {
  printf "explain / plain awk: %.2fx the time (goal <= 2x); explain / grouping awk: %.2fx; peak %.1f MiB (goal <= 64 MB)\n", a / b, a / c, m / 1024 }'
