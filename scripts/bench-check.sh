#!/usr/bin/env bash
# Measures, in one run and against the SAME loopback STARTTLS server and the SAME DNS
# (a real nsd serving a DNSSEC-signed zone behind a real validating unbound, see
# internal/testkit/dnskit), issue 5's performance goals:
#   1. one `check` CLI process (postfixtls check) vs one `posttls-finger` process asking the
#      same question of the same server: wall time per process and the ratio (goal <= 0.10);
#   2. smtpclient.Check as a library from all cores (goal >= 500 checks/s on 2 cores; issue
#      15: >= 1,000);
#   3. issue 15: one check process vs internal/cmd/bareclient, a bare Go STARTTLS client doing
#      the same MX, A and TLSA lookups and DANE handshake, run in turn (goal <= 1.5x);
#   4. with BATCH=1, issue 15's batch memory: one check process over 1,000, 10,000 and
#      100,000 destinations (peak resident memory must not grow with the count; ~2 minutes).
# The Go benchmarks live in internal/cmd/benchworld (BenchmarkCLIvsFinger,
# BenchmarkCheckParallel); ns/op of a CLI sub-benchmark is the wall time of one process.
# posttls-finger reads /etc/resolv.conf (port 53 only) and cannot reach the test resolver on
# its dynamic port, so the like-for-like pair is the explicit next hop "[127.0.1.20]:PORT"
# (no DNS, "secure" with match=mx.example.test and the test CA on both sides); the CLI's full
# MX + TLSA + DANE check through unbound is reported beside it.
# Usage: scripts/bench-check.sh [COUNT of process runs per CLI benchmark, default 100]
#                               [BENCHTIME for the parallel benchmark, default 3s]
set -euo pipefail
COUNT=${1:-100}
BT=${2:-3s}
PATH="$PATH:/usr/sbin:/usr/local/go/bin"
for p in posttls-finger nsd unbound ldns-signzone; do
  command -v "$p" >/dev/null || { echo "bench-check: $p not installed (Debian: postfix nsd unbound ldnsutils)" >&2; exit 1; }
done
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/postfixtls" ./cmd/postfixtls
export BENCH_CHECK_BIN="$work/postfixtls"

echo "== one process: check CLI vs posttls-finger (${COUNT} runs each, same server, same DNS)"
go test -run '^$' -bench 'BenchmarkCLIvsFinger' -benchtime "${COUNT}x" -count 1 ./internal/cmd/benchworld | tee "$work/cli.txt"
echo
echo "== library: smtpclient.Check from $(nproc) cores"
go test -run '^$' -bench 'BenchmarkCheckParallel' -benchtime "$BT" -count 1 ./internal/cmd/benchworld | tee "$work/lib.txt"
echo

echo "== issue 15: check process vs bare Go client, in turn"
go test -run '^$' -bench 'BenchmarkCLIvsFinger/pair' -benchtime "${COUNT}x" -count 1 ./internal/cmd/benchworld | tee "$work/pair.txt"
echo
if [ "${BATCH:-}" = 1 ]; then
  echo "== issue 15: batch memory"
  go test -run '^$' -bench 'BenchmarkBatchMemory' -benchtime 1x -count 1 -timeout 30m ./internal/cmd/benchworld | tee "$work/batch.txt"
  echo
fi

ns() { awk -v pat="$1" '$1 ~ pat { print $3; exit }' "$work/cli.txt"; }
finger=$(ns 'posttls-finger/bracketed')
check=$(ns 'check/bracketed-')
detect=$(ns 'check/bracketed-detect-version')
dane=$(ns 'check/mx-dane')
[ -n "$finger" ] && [ -n "$check" ] || { echo "bench-check: benchmarks did not run (skipped?)" >&2; exit 1; }
printf 'posttls-finger [addr]:port             %8.2f ms per process\n' "$(echo "$finger / 1000000" | bc -l)"
printf 'check [addr]:port -version 3.7.11      %8.2f ms per process   ratio %.3f (goal <= 0.100)\n' \
  "$(echo "$check / 1000000" | bc -l)" "$(echo "$check / $finger" | bc -l)"
printf 'check [addr]:port (postconf detects)   %8.2f ms per process   ratio %.3f\n' \
  "$(echo "$detect / 1000000" | bc -l)" "$(echo "$detect / $finger" | bc -l)"
printf 'check user@domain MX+TLSA+DANE         %8.2f ms per process   ratio %.3f\n' \
  "$(echo "$dane / 1000000" | bc -l)" "$(echo "$dane / $finger" | bc -l)"
awk '/checks\/s/ { for (i = 1; i <= NF; i++) if ($i == "checks/s") printf "library %-40s %8.0f checks/s (goal >= 1000)\n", $1, $(i-1) }' "$work/lib.txt"
awk '/check\/bare/ { for (i = 1; i <= NF; i++) { if ($i == "check-ms") c = $(i-1); if ($i == "bare-ms") g = $(i-1); if ($i == "check/bare") r = $(i-1) }
  printf "check user@domain %8.2f ms vs bare Go client %8.2f ms per process: ratio %.2f (goal <= 1.5)\n", c, g, r }' "$work/pair.txt"
[ -f "$work/batch.txt" ] && awk '/peak-MiB/ { for (i = 1; i <= NF; i++) { if ($i == "peak-MiB") m = $(i-1); if ($i == "checks/s") s = $(i-1) }
  printf "batch %-34s peak %6.1f MiB, %6.0f checks/s\n", $1, m, s }' "$work/batch.txt"
exit 0
