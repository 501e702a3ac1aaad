#!/usr/bin/env bash
# Compares the library's tls_policy handling with Postfix's own postmap on the same input, in
# one run, and prints the ratios:
#   1. loading a N-entry texthash tls_policy source (policyq with one key vs postmap -q with
#      one key: both must read the whole table);
#   2. answering M next-hop keys that need parent-domain recursion: policyq (full policy
#      resolution: recursion, entry parsing, policy assembly) vs postmap -q - texthash:FILE fed
#      every key the recursion would try (postmap does no recursion itself).
# policyq does the whole per-destination work (parent-domain recursion, entry parsing, policy
# assembly); postmap only looks keys up, so the per-query ratio is not like for like.
# Usage: scripts/bench-policy.sh [N entries, default 1000000] [M keys, default 1000000]
set -euo pipefail
N=${1:-1000000}
M=${2:-1000000}
PATH="$PATH:/usr/sbin:/usr/local/go/bin"
command -v postmap >/dev/null || { echo "bench-policy: postmap not installed (Debian package postfix)" >&2; exit 1; }
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/cf"
: > "$work/cf/main.cf"
go build -o "$work/policyq" ./internal/cmd/policyq

awk -v n="$N" 'BEGIN {
  split("secure match=nexthop:dot-nexthop|verify|encrypt protocols=>=TLSv1.2|may|dane|fingerprint match=AB:CD:EF:01", lv, "|");
  for (i = 0; i < n; i++) {
    if (i % 2 == 0) printf "domain%d.example %s\n", i, lv[i % 6 + 1];
    else printf ".parent%d.example %s\n", i, lv[i % 6 + 1];
  }
}' > "$work/tls_policy"
# Keys: mx.parentK.example -> hit at .parentK.example (second lookup).
awk -v m="$M" -v n="$N" 'BEGIN { for (i = 0; i < m; i++) printf "mx.parent%d.example\n", (i * 2 + 1) % n }' > "$work/keys"
# What postmap must be asked to do the same recursion by hand: the key, then its parent.
awk '{ print; sub(/^[^.]*/, ""); print }' "$work/keys" > "$work/keys.postmap"
echo "mx.parent1.example" > "$work/one"
# Postfix programs wait for files younger than a second to "settle"; backdate them.
touch -d '1 minute ago' "$work/tls_policy" "$work/cf/main.cf"

now() { date +%s.%N; }
# run CMD...: the best (lowest) wall time of three runs, in seconds.
run() {
  local best="" t0 t1 d
  for _ in 1 2 3; do
    t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
    d=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; fi
  done
  echo "$best"
}

cfg=(-C "$work/cf" -o "smtp_tls_policy_maps=texthash:$work/tls_policy" -o compatibility_level=3.6 -version 3.7.11)
load_ours=$(run sh -c "'$work/policyq' $(printf "%q " "${cfg[@]}") < '$work/one'")
load_pf=$(run sh -c "postmap -c '$work/cf' -q - texthash:'$work/tls_policy' < '$work/one'")
q_ours=$(run sh -c "'$work/policyq' $(printf "%q " "${cfg[@]}") < '$work/keys'")
q_pf=$(run sh -c "postmap -c '$work/cf' -q - texthash:'$work/tls_policy' < '$work/keys.postmap'")
# Check both found the same number of entries.
hits_ours=$("$work/policyq" "${cfg[@]}" < "$work/keys" 2>/dev/null | wc -l)
hits_pf=$(postmap -c "$work/cf" -q - texthash:"$work/tls_policy" < "$work/keys.postmap" 2>/dev/null | wc -l)

printf 'table: %d entries; queries: %d next hops (%d postmap keys)\n' "$N" "$M" "$(wc -l < "$work/keys.postmap")"
printf 'hits: policyq %d, postmap %d\n' "$hits_ours" "$hits_pf"
printf 'load (one query):  policyq %.3f s   postmap %.3f s   ratio %.2fx\n' "$load_ours" "$load_pf" "$(echo "$load_pf / $load_ours" | bc -l)"
printf 'whole run (load + all queries): policyq %.3f s   postmap %.3f s   ratio %.2fx\n' "$q_ours" "$q_pf" "$(echo "$q_pf / $q_ours" | bc -l)"
lq_ours=$(echo "$q_ours - $load_ours" | bc -l); lq_pf=$(echo "$q_pf - $load_pf" | bc -l)
printf 'queries (minus load): policyq %.3f s (%.0f/s)   postmap %.3f s (%.0f/s)   ratio %.2fx\n' \
  "$lq_ours" "$(echo "$M / $lq_ours" | bc -l)" "$lq_pf" "$(echo "$M / $lq_pf" | bc -l)" "$(echo "$lq_pf / $lq_ours" | bc -l)"
