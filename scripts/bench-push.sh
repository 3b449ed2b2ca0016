#!/usr/bin/env bash
# `make bench-push` (and the second half of `make bench`): times the overage
# job's Stripe push at concurrency 1 and 8 in one run of the Go benchmark
# BenchmarkPush (jobs/overage/push_bench_test.go): BENCH_PUSH_CLIENTS ×
# BENCH_PUSH_PER_CLIENT pending charges against the recording Stripe fake,
# which answers each request after BENCH_PUSH_LATENCY. Prints the figures,
# the ratio and the verdict, and rewrites the push section of
# docs/benchmarks.md. Not part of `make test` or CI: with the defaults the
# concurrency-1 run alone takes about 17 minutes (10,000 × 100 ms).
#
# Environment:
#   CORTEXCTL_TEST_DATABASE_URL  the server the test database is cloned on
#                                (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_PUSH_CLIENTS           default 5000
#   BENCH_PUSH_PER_CLIENT        default 2 (each client's charges go in order)
#   BENCH_PUSH_LATENCY           default 100ms
#   BENCH_DOC                    the file to rewrite (default docs/benchmarks.md; "-" leaves it alone)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export BENCH_PUSH_CLIENTS=${BENCH_PUSH_CLIENTS:-5000}
export BENCH_PUSH_PER_CLIENT=${BENCH_PUSH_PER_CLIENT:-2}
export BENCH_PUSH_LATENCY=${BENCH_PUSH_LATENCY:-100ms}
export BENCH_PUSH_CONCURRENCY=1,8
BENCH_DOC=${BENCH_DOC:-docs/benchmarks.md}
TARGET_SPEEDUP=6 # concurrency 8 at least this many times faster than 1

out=.bench
mkdir -p "$out"
# shellcheck source=scripts/doc-section.sh
source scripts/doc-section.sh

info() { printf 'bench-push: %s\n' "$*"; }
die() { printf 'bench-push: %s\n' "$*" >&2; exit 1; }

for v in BENCH_PUSH_CLIENTS BENCH_PUSH_PER_CLIENT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
charges=$((BENCH_PUSH_CLIENTS * BENCH_PUSH_PER_CLIENT))
info "$charges pending charges ($BENCH_PUSH_CLIENTS clients × $BENCH_PUSH_PER_CLIENT), $BENCH_PUSH_LATENCY per Stripe request, concurrency 1 then 8"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$SECONDS
go test -run '^$' -bench '^BenchmarkPush$' -benchtime 1x -timeout 3h ./jobs/overage/ | tee "$out/push.txt"
elapsed=$((SECONDS - started))

# BenchmarkPush/concurrency=1-2   1   1023456789 ns/op   10000 charges   9.77 charges/s   100.0 latency_ms
seconds() { awk -v c="concurrency=$1-" 'index($1, c) { for (i = 2; i < NF; i++) if ($(i + 1) == "ns/op") printf "%.2f", $i / 1e9 }' "$out/push.txt"; }
rate() { awk -v c="concurrency=$1-" 'index($1, c) { for (i = 2; i < NF; i++) if ($(i + 1) == "charges/s") printf "%.1f", $i }' "$out/push.txt"; }
s1=$(seconds 1) s8=$(seconds 8) r1=$(rate 1) r8=$(rate 8)
[[ -n $s1 && -n $s8 ]] || die "could not read both runs from $out/push.txt"
speedup=$(awk -v a="$s1" -v b="$s8" 'BEGIN { printf "%.2f", a / b }')
verdict=$(awk -v s="$speedup" -v t="$TARGET_SPEEDUP" 'BEGIN { print (s >= t) ? "**MET**" : "**NOT MET**" }')
ideal=$(awk -v l="${BENCH_PUSH_LATENCY%ms}" -v n="$charges" 'BEGIN { printf "%.0f", l * n / 1000 }')

{
  echo "Run on $(date -u '+%Y-%m-%d %H:%M') UTC by \`make bench-push\` (scripts/bench-push.sh), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (work tree with uncommitted changes)'), in ${elapsed} s."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| machine | $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) memory; load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end |"
  echo "| ledger | $charges pending charges: $BENCH_PUSH_CLIENTS clients × $BENCH_PUSH_PER_CLIENT (each client's in chain order), in a database cloned per run on the local PostgreSQL |"
  echo "| Stripe | the recording fake (internal/stripeclient/stripetest), every request answered after $BENCH_PUSH_LATENCY; at concurrency 1 the latency alone is ${ideal} s |"
  echo
  echo "| concurrency | seconds | charges/s |"
  echo "|--:|--:|--:|"
  echo "| 1 | $s1 | $r1 |"
  echo "| 8 | $s8 | $r8 |"
  echo
  echo "| target | measured | verdict |"
  echo "|---|---|---|"
  echo "| concurrency 8 at least ${TARGET_SPEEDUP}× faster than concurrency 1 | ${speedup}× | $verdict |"
} >"$out/push.md"
echo
cat "$out/push.md"

if [[ $BENCH_DOC != - ]]; then
  begin='<!-- bench-push:begin: written by scripts/bench-push.sh; edit the script, not this section -->'
  end='<!-- bench-push:end -->'
  write_doc_section "$BENCH_DOC" "Latest Stripe push figures" "$begin" "$end" "$out/push.md"
  info "figures written to $BENCH_DOC"
fi
