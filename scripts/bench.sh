#!/usr/bin/env bash
# `make bench`: times the overage job against the work it replaces, on a
# database of its own seeded with BENCH_CLIENTS clients and BENCH_ROWS
# usage_logs rows spread over the current month up to now:
#
#   (a) bin/cortexctl billing overage --dry-run   the real binary, end to end
#   (b) psql: SELECT client_id, sum(quantity) FROM usage_logs GROUP BY client_id
#   (c) psql: one count(*) query per client on one connection (the old
#       system's loop: BENCH_CLIENTS round trips)
#
# After one warm-up run of each it runs BENCH_RUNS rounds of a, b, c
# (interleaved, so all three see the same machine), prints the medians, the
# ratios a/b and c/a, the peak RSS of (a) and a verdict for each target, and
# rewrites the figures section of docs/benchmarks.md. Raw output goes to .bench/.
# Not part of `make test` or CI: it takes 1 to 5 minutes (most of it seeding,
# more when the machine is loaded) and leaves an 800 MB database in place.
#
# Environment:
#   DATABASE_URL        the server to use; only its database name is replaced
#                       (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_DB            the benchmark's database, dropped and recreated
#                       (default cortexctl_bench; its name must contain "bench")
#   BENCH_KEEP=1        reuse BENCH_DB when it already holds exactly the data
#                       this run would seed (same sizes, current month)
#   BENCH_CLIENTS       default 10000
#   BENCH_ROWS          default 5000000
#   BENCH_RUNS          timed rounds after the warm-up, default 5
#   BENCH_DOC           the file whose figures section is rewritten
#                       (default docs/benchmarks.md; "-" to leave docs alone)
#   BENCH_BUILD=0       time bin/cortexctl as it is instead of running make build
#   BENCH_ALLOW_REMOTE=1  allow a database host that is not local
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BENCH_DB=${BENCH_DB:-cortexctl_bench}
BENCH_CLIENTS=${BENCH_CLIENTS:-10000}
BENCH_ROWS=${BENCH_ROWS:-5000000}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_DOC=${BENCH_DOC:-docs/benchmarks.md}
server_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}

# Targets from the issue.
TARGET_A_OVER_B=1.5 # (a) at most this many times (b)
TARGET_C_OVER_A=10  # (c) at least this many times (a)
TARGET_RSS_MIB=100  # peak RSS of (a) below this

out=.bench
bin=bin/cortexctl
started=$SECONDS

# shellcheck source=scripts/doc-section.sh
source scripts/doc-section.sh

info() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
header() { printf '\n=== %s ===\n' "$*"; }
redact() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

# ---------------------------------------------------------------- checks
[[ $BENCH_DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB must be a plain lower-case identifier (got '$BENCH_DB')"
[[ $BENCH_DB == *bench* ]] || die "BENCH_DB '$BENCH_DB' is dropped and recreated, so its name must contain 'bench'"
for v in BENCH_CLIENTS BENCH_ROWS BENCH_RUNS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
((BENCH_ROWS >= BENCH_CLIENTS)) || die "BENCH_ROWS must be at least BENCH_CLIENTS"
command -v psql >/dev/null || die "psql is not installed (Debian: apt-get install postgresql-client)"
command -v pg_isready >/dev/null || die "pg_isready is not installed (Debian: apt-get install postgresql-client)"
/usr/bin/time -f %M true >/dev/null 2>&1 || die "GNU time is needed at /usr/bin/time for peak RSS (Debian: apt-get install time)"

# The bench database sits on the server of DATABASE_URL: swap the path.
re='^(postgres(ql)?://([^/?#]*))(/([^?#]*))?(\?[^#]*)?$'
[[ $server_url =~ $re ]] || die "DATABASE_URL must be a URL like postgres://user@host:port/dbname (got: $(redact "$server_url"))"
url_base=${BASH_REMATCH[1]}
url_db=${BASH_REMATCH[5]}
url_query=${BASH_REMATCH[6]}
host=${BASH_REMATCH[3]##*@}
if [[ $host == \[* ]]; then host=${host%%]*}]; else host=${host%%:*}; fi
if [[ $url_query =~ [?\&]host=([^\&]*) ]]; then host=${BASH_REMATCH[1]}; fi
case $host in
  "" | localhost | 127.* | "[::1]" | %2F* | %2f* | /*) ;;
  *) [[ ${BENCH_ALLOW_REMOTE:-} == 1 ]] ||
    die "the bench drops and recreates database '$BENCH_DB'; refusing the non-local host '$host' (set BENCH_ALLOW_REMOTE=1 if that is intended)" ;;
esac
[[ $url_db != "$BENCH_DB" ]] || url_db=postgres
admin_url="$url_base/${url_db:-postgres}$url_query"
bench_url="$url_base/$BENCH_DB$url_query"

pg_isready -q -t 5 -d "$admin_url" ||
  die "no PostgreSQL answers at $(redact "$admin_url"); start it (e.g. pg_ctlcluster <version> main start) or set DATABASE_URL"

mkdir -p "$out"
rm -f "$out"/*.out "$out"/*.err "$out"/*.time
info "server $(redact "$admin_url"), database $BENCH_DB; raw output in $out/"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- build
if [[ ${BENCH_BUILD:-1} == 0 ]]; then
  [[ -x $bin ]] || die "BENCH_BUILD=0 but there is no $bin; run make build"
  info "BENCH_BUILD=0: timing $bin as it is"
else
  header "build"
  make --no-print-directory build
fi

# ---------------------------------------------------------------- database
# psql on the bench database: no psqlrc, stop at the first error.
bpsql() { psql "$bench_url" -X -q -v ON_ERROR_STOP=1 "$@"; }

header "database $BENCH_DB"
reuse=false
if [[ $BENCH_KEEP == 1 ]]; then
  # Reused only if it holds exactly what this run would seed, in this month.
  have=$(bpsql -tA -v clients="$BENCH_CLIENTS" -v rows="$BENCH_ROWS" 2>/dev/null <<'SQL' || true
SELECT (SELECT count(*) FROM clients) = :clients
   AND count(*) = :rows
   AND min(occurred_at) >= date_trunc('month', now(), 'UTC')
   AND max(occurred_at) <= now()
FROM usage_logs;
SQL
  )
  if [[ $have == t ]]; then
    reuse=true
    info "BENCH_KEEP=1 and $BENCH_DB holds $BENCH_CLIENTS clients and $BENCH_ROWS rows of this month: reusing it"
  else
    info "BENCH_KEEP=1 but $BENCH_DB is missing or holds other data: recreating it"
  fi
fi
if ! $reuse; then
  psql "$admin_url" -X -q -v ON_ERROR_STOP=1 -v db="$BENCH_DB" <<'SQL' ||
DROP DATABASE IF EXISTS :"db";
CREATE DATABASE :"db";
SQL
    die "could not recreate database $BENCH_DB (is a session still connected to it?)"
fi
"$bin" --database-url "$bench_url" --log-level warn --output json db migrate >"$out/migrate.out"

seed_seconds=""
if ! $reuse; then
  header "seed $BENCH_CLIENTS clients and $BENCH_ROWS usage rows"
  t0=$EPOCHREALTIME
  # Set-based and deterministic (setseed). The usage table's indexes and its
  # primary and foreign keys are dropped for the load and recreated from their
  # own definitions, then checked to be what the migration made.
  bpsql -v clients="$BENCH_CLIENTS" -v rows="$BENCH_ROWS" <<'SQL'
BEGIN;
SET LOCAL maintenance_work_mem = '512MB';

-- Plans 60% starter, 30% growth, 10% scale; every client can be billed.
INSERT INTO clients (id, email, company_name, plan_code, stripe_customer_id)
SELECT md5('cortexctl-bench-' || k)::uuid,
       format('bench-%s@bench.invalid', lpad(k::text, 6, '0')),
       format('Bench Client %s', k),
       (ARRAY['starter', 'starter', 'starter', 'starter', 'starter', 'starter',
              'growth', 'growth', 'growth', 'scale'])[1 + k % 10],
       format('cus_bench%s', lpad(k::text, 6, '0'))
FROM generate_series(0, :clients - 1) AS k;

CREATE FUNCTION pg_temp.usage_logs_shape() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(d, E'\n' ORDER BY d) FROM (
        SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'usage_logs'::regclass
        UNION ALL
        SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'usage_logs'::regclass
    ) AS s(d)
$$;
CREATE TEMP TABLE bench_shape ON COMMIT DROP AS SELECT pg_temp.usage_logs_shape() AS before;
-- ord: 1 primary/unique keys, 2 plain indexes, 3 foreign keys; dropped in reverse.
CREATE TEMP TABLE bench_ddl ON COMMIT DROP AS
SELECT CASE contype WHEN 'f' THEN 3 ELSE 1 END AS ord,
       format('ALTER TABLE usage_logs ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) AS redo,
       format('ALTER TABLE usage_logs DROP CONSTRAINT %I', conname) AS undo
FROM pg_constraint WHERE conrelid = 'usage_logs'::regclass AND contype IN ('p', 'u', 'x', 'f')
UNION ALL
SELECT 2, pg_get_indexdef(i.indexrelid), format('DROP INDEX %s', i.indexrelid::regclass)
FROM pg_index i
WHERE i.indrelid = 'usage_logs'::regclass
  AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid);
SELECT undo FROM bench_ddl ORDER BY ord DESC \gexec

-- Rows in time order, as an append-only log is written, from the start of
-- the month (UTC, as billing periods are) to now. Client k gets a share
-- that falls off like 1/sqrt(k): a few heavy users, a long tail.
-- 90% 'query', 6% 'ingest', 4% 'export'; quantity 1, one row in ten 2..10.
SELECT setseed(0.42) \gset
INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at)
SELECT md5('cortexctl-bench-' || floor(:clients * power(random(), 2))::int)::uuid,
       CASE WHEN random() < 0.90 THEN 'query' WHEN random() < 0.6 THEN 'ingest' ELSE 'export' END,
       CASE WHEN random() < 0.90 THEN 1 ELSE 2 + floor(random() * 9)::int END,
       m.start + (g - 1 + random()) / :rows * (m.now - m.start)
FROM (SELECT date_trunc('month', now(), 'UTC') AS start, now() AS now) AS m,
     generate_series(1, :rows) AS g;

SELECT redo FROM bench_ddl ORDER BY ord \gexec
DO $$
BEGIN
    IF (SELECT before FROM bench_shape) IS DISTINCT FROM pg_temp.usage_logs_shape() THEN
        RAISE EXCEPTION 'usage_logs indexes or constraints differ from the migration''s after the load';
    END IF;
END
$$;
COMMIT;
SQL
  info "loaded in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s; vacuum and analyze"
  # FREEZE: no autovacuum of the fresh rows starts in the middle of the timings.
  bpsql -c 'VACUUM (FREEZE, ANALYZE)'
  bpsql -c 'CHECKPOINT' 2>/dev/null || info "CHECKPOINT refused (not superuser); continuing"
  seed_seconds=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
  info "seeded in $seed_seconds s"
fi

# Facts about the data, read back rather than assumed.
IFS='|' read -r month_start n_clients n_rows n_query n_quantity first_at last_at heap_size idx_size < <(bpsql -tA <<'SQL'
SELECT to_char(date_trunc('month', now(), 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       (SELECT count(*) FROM clients), count(*), count(*) FILTER (WHERE operation_type = 'query'), sum(quantity),
       to_char(min(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
       to_char(max(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
       pg_size_pretty(pg_table_size('usage_logs')), pg_size_pretty(pg_indexes_size('usage_logs'))
FROM usage_logs;
SQL
)
info "$n_clients clients, $n_rows usage rows ($n_query 'query') from $first_at to $last_at UTC; usage_logs $heap_size + indexes $idx_size"

# ---------------------------------------------------------------- the three commands
# (c) as a client program runs it: psql fetches the client list, then \gexec
# sends each generated statement as its own query and waits for its answer,
# on one connection, as the old system did through its driver.
cat >"$out/loop.sql" <<'SQL'
SELECT format('SELECT count(*) FROM usage_logs WHERE client_id = %L AND occurred_at >= %L', id, :'month_start')
FROM clients ORDER BY id
\gexec
SQL
bare_sql='SELECT client_id, sum(quantity) FROM usage_logs GROUP BY client_id'

cmd_a=("$bin" --database-url "$bench_url" --output json billing overage --dry-run)
cmd_b=(psql "$bench_url" -X -q -A -t -v ON_ERROR_STOP=1 -c "$bare_sql")
cmd_c=(psql "$bench_url" -X -q -A -t -v ON_ERROR_STOP=1 -v month_start="$month_start" -f "$out/loop.sql")

# check_output NAME: fail loudly if a run did not do the whole job.
check_output() {
  local f=$out/$1.out got
  case $1 in
    a)
      got=$(grep -o '"clients_evaluated": [0-9]*' "$f" | grep -o '[0-9]*$' || true)
      [[ $got == "$n_clients" ]] || die "(a) evaluated '${got:-?}' clients, expected $n_clients; see $f and $out/a.err"
      ;;
    b)
      got=$(awk -F'|' '{ s += $2 } END { printf "%d", s }' "$f")
      [[ $got == "$n_quantity" ]] || die "(b) summed '$got', expected $n_quantity; see $f"
      ;;
    c)
      got=$(awk '{ n++; s += $1 } END { printf "%d %d", n, s }' "$f")
      [[ $got == "$n_clients $n_rows" ]] || die "(c) returned '$got' (queries, rows counted), expected '$n_clients $n_rows'; see $f"
      ;;
  esac
}

# run NAME: one run, timed; sets run_s (wall-clock seconds) and run_rss (KiB).
run() {
  local name=$1 t0 t1 rc=0 cmd
  case $name in
    a) cmd=("${cmd_a[@]}") ;;
    b) cmd=("${cmd_b[@]}") ;;
    c) cmd=("${cmd_c[@]}") ;;
  esac
  t0=$EPOCHREALTIME
  /usr/bin/time -o "$out/$name.time" -f '%e %M' "${cmd[@]}" >"$out/$name.out" 2>"$out/$name.err" || rc=$?
  t1=$EPOCHREALTIME
  ((rc == 0)) || { tail -n 5 "$out/$name.err" >&2; die "($name) exited $rc: ${cmd[*]}"; }
  check_output "$name"
  run_rss=$(awk 'END { print $2 }' "$out/$name.time")
  run_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

header "timings: 1 warm-up, then $BENCH_RUNS interleaved rounds of (a), (b), (c)"
for name in a b c; do
  run "$name"
  info "warm-up ($name) ${run_s}s"
done
: >"$out/timings.txt"
for ((i = 1; i <= BENCH_RUNS; i++)); do
  line="round $i:"
  for name in a b c; do
    run "$name"
    echo "$i $name $run_s $run_rss" >>"$out/timings.txt"
    line+=" ($name) ${run_s}s"
  done
  info "$line"
done
cp "$out/a.out" "$out/overage-report.json"

# ---------------------------------------------------------------- plans
header "query plans"
# The overage job's usage aggregate, taken from its source so this stays true
# to the binary, prepared and executed as pgx does (first runs: custom plan).
usage_sql=$(awk '/^const usageSQL = `/ { f = 1; sub(/^const usageSQL = `/, "") }
  f { if (index($0, "`")) { sub(/`.*/, ""); print; exit } print }' jobs/overage/plan.go)
one_client=$(bpsql -tA -c "SELECT id FROM clients ORDER BY id OFFSET $((BENCH_CLIENTS / 2)) LIMIT 1")
{
  if [[ -n $usage_sql ]]; then
    echo "-- (a) the overage job's usage aggregate (jobs/overage/plan.go usageSQL), current period"
    bpsql -v month_start="$month_start" <<SQL
PREPARE usage AS $usage_sql;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE usage(:'month_start', now(), NULL);
SQL
  else
    echo "-- (a) usageSQL not found in jobs/overage/plan.go: plan not taken"
  fi
  echo "-- (b) the bare aggregate"
  bpsql -c "EXPLAIN (ANALYZE, BUFFERS) $bare_sql"
  echo "-- (c) one of the per-client queries, once the session has run one (as in the loop)"
  c_sql="SELECT count(*) FROM usage_logs WHERE client_id = '$one_client' AND occurred_at >= '$month_start'"
  bpsql <<SQL
\o /dev/null
$c_sql;
\o
EXPLAIN (ANALYZE, BUFFERS) $c_sql;
SQL
} >"$out/plans.txt" 2>&1
sed -n '1,200p' "$out/plans.txt"

# ---------------------------------------------------------------- results
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v n="$1" -v c="$2" '$2 == n { print $c }' "$out/timings.txt"; }
fmt() { awk -v x="$1" 'BEGIN { printf "%.3f", x }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
declare -A med lo hi rss
for n in a b c; do
  med[$n]=$(col "$n" 3 | median)
  lo[$n]=$(col "$n" 3 | sort -g | head -n 1)
  hi[$n]=$(col "$n" 3 | sort -g | tail -n 1)
  rss[$n]=$(col "$n" 4 | sort -g | tail -n 1)
done
a_over_b=$(awk -v a="${med[a]}" -v b="${med[b]}" 'BEGIN { printf "%.2f", a / b }')
c_over_a=$(awk -v a="${med[a]}" -v c="${med[c]}" 'BEGIN { printf "%.1f", c / a }')
verdict() { if awk -v x="$1" -v op="$2" -v t="$3" 'BEGIN { exit !(op == "<=" ? x <= t : op == ">=" ? x >= t : x < t) }'; then echo MET; else echo "NOT MET"; fi; }
v_ab=$(verdict "$a_over_b" "<=" "$TARGET_A_OVER_B")
v_ca=$(verdict "$c_over_a" ">=" "$TARGET_C_OVER_A")
v_rss=$(verdict "$(mib "${rss[a]}")" "<" "$TARGET_RSS_MIB")
report_totals="see $out/overage-report.json"
if command -v jq >/dev/null; then
  report_totals=$(jq -r '.report.totals | "\(.clients_evaluated) clients evaluated, \(.clients_over_soft_cap) over the soft cap; would bill \(.new_units) units in \(.charges_created) charges, would disable \(.disabled)"' "$out/overage-report.json")
fi

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
pg_version=$(bpsql -tA -c 'SHOW server_version')
pg_settings=$(bpsql -tA -c "SELECT string_agg(name || ' ' || current_setting(name), ', ' ORDER BY name) FROM unnest(ARRAY['shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'jit']) AS name")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
version=$("$bin" version --output json | awk -F'"' '/"version"/ { print $4 }')
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then rev+=" (work tree with uncommitted changes)"; fi
seed_note="${seed_seconds:+seeded in $seed_seconds s}"
seed_note=${seed_note:-reused (BENCH_KEEP=1), not reseeded}

{
  echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC') by \`make bench\` (scripts/bench.sh), cortexctl $version, commit $rev."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| machine | $(nproc) cores ($cpu), $mem memory; load average (1, 5, 15 min) $load_start at the start, $load_end at the end |"
  echo "| PostgreSQL | $pg_version, server of \`DATABASE_URL\`, over $(redact "$url_base" | sed -E 's#^postgres(ql)?://([^@]*@)?##'); $pg_settings |"
  echo "| data | $n_clients clients; $n_rows usage_logs rows ($n_query of them 'query') from $first_at to $last_at UTC; usage_logs $heap_size, its indexes $idx_size; $seed_note |"
  echo "| runs | 1 warm-up of each, then $BENCH_RUNS rounds of (a), (b), (c) in turn; wall-clock seconds of the whole process, peak RSS from GNU time |"
  echo "| (a) reported | $report_totals (dry run: nothing written but its job_runs row) |"
  echo
  echo "| | command | median s | min s | max s | peak RSS MiB |"
  echo "|---|---|--:|--:|--:|--:|"
  echo "| (a) | \`cortexctl billing overage --dry-run\` | $(fmt "${med[a]}") | $(fmt "${lo[a]}") | $(fmt "${hi[a]}") | $(mib "${rss[a]}") |"
  echo "| (b) | psql: \`$bare_sql\` | $(fmt "${med[b]}") | $(fmt "${lo[b]}") | $(fmt "${hi[b]}") | $(mib "${rss[b]}") |"
  echo "| (c) | psql: $n_clients × \`SELECT count(*) … WHERE client_id = … AND occurred_at >= …\`, one connection | $(fmt "${med[c]}") | $(fmt "${lo[c]}") | $(fmt "${hi[c]}") | $(mib "${rss[c]}") |"
  echo
  echo "| target | measured | verdict |"
  echo "|---|---|---|"
  echo "| (a) within ${TARGET_A_OVER_B}× of (b) | a/b = $a_over_b | **$v_ab** |"
  echo "| (c) at least ${TARGET_C_OVER_A}× slower than (a) | c/a = $c_over_a | **$v_ca** |"
  echo "| peak RSS of (a) under $TARGET_RSS_MIB MiB | $(mib "${rss[a]}") MiB | **$v_rss** |"
  echo
  echo "Every timed run, in seconds:"
  echo
  echo "| round | (a) | (b) | (c) |"
  echo "|--:|--:|--:|--:|"
  awk '{ t[$1, $2] = $3; if ($1 > n) n = $1 } END { for (i = 1; i <= n; i++) printf "| %d | %s | %s | %s |\n", i, t[i, "a"], t[i, "b"], t[i, "c"] }' "$out/timings.txt"
  echo
  echo "Query plans, taken after the timings (EXPLAIN (ANALYZE, BUFFERS)):"
  echo
  echo '```'
  cat "$out/plans.txt"
  echo '```'
} >"$out/results.md"

header "results"
sed -n '/^| | command/,/^| peak RSS/p' "$out/results.md"

if [[ $BENCH_DOC != - ]]; then
  begin='<!-- bench:begin: written by scripts/bench.sh; edit the script, not this section -->'
  end='<!-- bench:end -->'
  mkdir -p "$(dirname "$BENCH_DOC")"
  write_doc_section "$BENCH_DOC" "Latest figures" "$begin" "$end" "$out/results.md"
  info "figures written to $BENCH_DOC"
fi
info "done in $((SECONDS - started)) s"
