#!/usr/bin/env bash
# `make bench-api`: POST /v1/usage under load from wrk against `cortexctl api`
# on loopback, side by side with pgbench inserting the same single row into
# usage_logs straight into PostgreSQL, with the same number of connections, in
# one run; then batch ingestion at 1,000 events per request. Prints the
# figures and the verdicts and rewrites the API section of docs/benchmarks.md.
# Not part of `make test` or CI (about 2 minutes).
#
# Environment:
#   CORTEXCTL_TEST_DATABASE_URL  the server the bench database is created on
#                                (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_API_CONNECTIONS        wrk and pgbench connections (default 64)
#   BENCH_API_SECONDS            each measurement's duration (default 20)
#   BENCH_API_POOL               the API's pool_max_conns (default 16, the API's default)
#   BENCH_DOC                    the file to rewrite (default docs/benchmarks.md; "-" leaves it alone)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

admin_url=${CORTEXCTL_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
conns=${BENCH_API_CONNECTIONS:-64}
secs=${BENCH_API_SECONDS:-20}
pool=${BENCH_API_POOL:-16}
batch_conns=8
BENCH_DOC=${BENCH_DOC:-docs/benchmarks.md}
out=.bench
mkdir -p "$out"
# shellcheck source=scripts/doc-section.sh
source scripts/doc-section.sh

info() { printf 'bench-api: %s\n' "$*"; }
die() { printf 'bench-api: %s\n' "$*" >&2; exit 1; }

for tool in wrk pgbench psql; do
  command -v "$tool" >/dev/null || die "$tool is not installed (Debian: apt-get install wrk postgresql-client postgresql-contrib)"
done
for v in conns secs pool; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done

db=cortexctl_bench_api_$$
base=${admin_url%/*}
url="$base/$db"
port=18000
api_pid=
cleanup() {
  [[ -z $api_pid ]] || { kill -TERM "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; }
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

info "building cortexctl"
go build -trimpath -o "$out/cortexctl" ./cmd/cortexctl
psql -q "$admin_url" -c "CREATE DATABASE $db" >/dev/null
DATABASE_URL=$url CORTEXCTL_LOG_FORMAT=json "$out/cortexctl" db migrate >/dev/null 2>&1

# One client on a plan whose rate limit is out of the way, and its key
# (stored as its SHA-256, as the API makes them).
body=$(head -c 16 /dev/urandom | base32 | tr -d '=' | head -c 26)
key="ck_live_$body"
client=$(psql -qAt "$url" <<SQL
INSERT INTO plans (code, monthly_query_limit, overage_unit_price_micros, rate_limit_per_minute) VALUES ('bench', 1000000000, 10000, 100000000);
INSERT INTO clients (email, company_name, plan_code) VALUES ('bench@example.test', 'Bench Co', 'bench') RETURNING id;
SQL
)
client=$(tail -n 1 <<<"$client")
psql -q "$url" -c "INSERT INTO api_keys (client_id, prefix, key_hash, created_by) VALUES ('$client', '${key:0:12}', sha256('$key'::bytea), 'bench')" >/dev/null

info "starting cortexctl api on 127.0.0.1:$port (pool $pool)"
DATABASE_URL="$url?pool_max_conns=$pool" CORTEXCTL_LOG_LEVEL=warn CORTEXCTL_LOG_FORMAT=json \
  "$out/cortexctl" api --addr "127.0.0.1:$port" 2>"$out/api.log" &
api_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || die "the API did not become ready: $(cat "$out/api.log")"

# The same row both ways: one event of one query, occurred_at now.
cat >"$out/pgbench.sql" <<SQL
INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at) VALUES ('$client', 'query', 1, now());
SQL
cat >"$out/single.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"operation_type":"query"}'
LUA
events=$(awk 'BEGIN { for (i = 0; i < 1000; i++) printf "%s{\"operation_type\":\"query\"}", (i ? "," : "") }')
cat >"$out/batch.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"events":[$events]}'
LUA

# Per-run outcome counts: wrk counts non-2xx responses; the database counts rows.
rows() { psql -qAt "$url" -c "SELECT count(*) FROM usage_logs"; }
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

info "warm-up (5 s each)"
pgbench -n -c "$conns" -j 2 -T 5 -f "$out/pgbench.sql" "$url" >/dev/null 2>&1
wrk -t 2 -c "$conns" -d 5s -s "$out/single.lua" "http://127.0.0.1:$port/v1/usage" >/dev/null

info "pgbench: $conns connections, ${secs} s"
rm -f "$out"/pgbench_log.*
pgbench -n -c "$conns" -j 2 -T "$secs" -l --log-prefix="$out/pgbench_log" -f "$out/pgbench.sql" "$url" 2>&1 | tee "$out/pgbench.txt"
pg_tps=$(awk '/^tps = / { printf "%.0f", $3 }' "$out/pgbench.txt")
# Per-transaction log: the third field is the latency in microseconds.
pg_pct() { cat "$out"/pgbench_log.* | awk '{ print $3 }' | sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 }'; }
pg_p50=$(pg_pct 50) pg_p99=$(pg_pct 99)
rm -f "$out"/pgbench_log.*

info "wrk POST /v1/usage, one event: $conns connections, ${secs} s"
before=$(rows)
wrk -t 2 -c "$conns" -d "${secs}s" --latency -s "$out/single.lua" "http://127.0.0.1:$port/v1/usage" | tee "$out/wrk-single.txt"
single_rows=$(( $(rows) - before ))

info "wrk POST /v1/usage, 1000 events per request: $batch_conns connections, ${secs} s"
before=$(rows)
wrk -t 2 -c "$batch_conns" -d "${secs}s" --latency -s "$out/batch.lua" "http://127.0.0.1:$port/v1/usage" | tee "$out/wrk-batch.txt"
batch_rows=$(( $(rows) - before ))
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
# wrk prints latencies with units (us, ms, s); in ms.
pct() { awk -v p="$2%" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v); f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.2f", v * f }' "$1"; }
errors() { awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { for (i = 4; i <= NF; i += 2) n += $i } END { print n + 0 }' "$1"; }
api_rps=$(rps "$out/wrk-single.txt")
p50=$(pct "$out/wrk-single.txt" 50) p99=$(pct "$out/wrk-single.txt" 99)
batch_rps=$(rps "$out/wrk-batch.txt")
bp50=$(pct "$out/wrk-batch.txt" 50) bp99=$(pct "$out/wrk-batch.txt" 99)
single_err=$(errors "$out/wrk-single.txt") batch_err=$(errors "$out/wrk-batch.txt")
events_per_s=$(awk -v r="$batch_rows" -v s="$secs" 'BEGIN { printf "%.0f", r / s }')
ratio=$(awk -v a="$api_rps" -v p="$pg_tps" 'BEGIN { printf "%.2f", a / p }')
verdict() { awk -v ok="$1" 'BEGIN { print ok ? "**MET**" : "**NOT MET**" }'; }
v_ratio=$(verdict "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5) }')")
v_p99=$(verdict "$(awk -v p="$p99" 'BEGIN { print (p < 50) }')")
v_batch=$(verdict "$(awk -v e="$events_per_s" 'BEGIN { print (e >= 50000) }')")

{
  echo "Run on $(date -u '+%Y-%m-%d %H:%M') UTC by \`make bench-api\` (scripts/bench-api.sh), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (work tree with uncommitted changes)')."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| machine | $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); wrk, pgbench, the API and PostgreSQL $(psql -qAt "$url" -c 'SHOW server_version' | cut -d' ' -f1) all on it; load average $load_start at the start, $load_end at the end |"
  echo "| API | \`cortexctl api\` (in-process rate limits; the bench plan's limit out of the way), pool of $pool connections, log level warn |"
  echo "| each measurement | ${secs} s after a 5 s warm-up of both; one event = one row \`(client_id, 'query', 1, now())\` in usage_logs |"
  echo
  echo "| | connections | requests/s | events/s | p50 ms | p99 ms | errors | rows written |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|"
  echo "| pgbench, single-row INSERT | $conns | $pg_tps | $pg_tps | $pg_p50 | $pg_p99 | | |"
  echo "| POST /v1/usage, one event | $conns | $api_rps | $api_rps | $p50 | $p99 | $single_err | $single_rows |"
  echo "| POST /v1/usage, 1,000 events | $batch_conns | $batch_rps | $events_per_s | $bp50 | $bp99 | $batch_err | $batch_rows |"
  echo
  echo "| target | measured | verdict |"
  echo "|---|---|---|"
  echo "| the API sustains at least half of pgbench's rate | ${ratio}× | $v_ratio |"
  echo "| p99 under 50 ms at $conns connections | $p99 ms | $v_p99 |"
  echo "| batch ingestion at least 50,000 events/s | $events_per_s events/s | $v_batch |"
} >"$out/api.md"
echo
cat "$out/api.md"

if [[ $BENCH_DOC != - ]]; then
  begin='<!-- bench-api:begin: written by scripts/bench-api.sh; edit the script, not this section -->'
  end='<!-- bench-api:end -->'
  write_doc_section "$BENCH_DOC" "Latest API figures" "$begin" "$end" "$out/api.md"
  info "figures written to $BENCH_DOC"
fi
