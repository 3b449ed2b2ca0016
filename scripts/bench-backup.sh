#!/usr/bin/env bash
# `make bench-backup` (and part of `make bench`): times `cortexctl db backup`
# to a local S3-compatible server (a private versitygw) against
#   (b) pg_dump --format=custom > /dev/null          what the dump alone costs
#   (c) pg_dump -f file, then aws s3 cp file s3://…   the old way
# on a database of about BENCH_BACKUP_MB megabytes that it generates, in
# interleaved rounds, and the peak RSS of `db backup` on that database and on
# one half its size (both dumps fill the upload's part buffers, so equal
# figures show that the memory bound does not grow with the data).
# Prints the figures and the verdicts and rewrites the backup section of
# docs/benchmarks.md. Not part of `make test` or CI.
#
# Environment:
#   DATABASE_URL        the server (default postgres://postgres@127.0.0.1:5432/postgres); only the database name is replaced
#   BENCH_BACKUP_MB     target size of the big database, default 2048
#   BENCH_RUNS          timed rounds after the warm-up, default 3
#   BENCH_KEEP=1        reuse the generated databases if they exist
#   BENCH_DOC           the file to rewrite (default docs/benchmarks.md; "-" leaves it alone)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/doc-section.sh
source scripts/doc-section.sh

BENCH_BACKUP_MB=${BENCH_BACKUP_MB:-2048}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_DOC=${BENCH_DOC:-docs/benchmarks.md}
server_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
TARGET_VS_DUMP=1.10 # db backup at most this many times pg_dump > /dev/null
TARGET_RSS_MIB=100

out=.bench/backup
mkdir -p "$out"
info() { printf 'bench-backup: %s\n' "$*"; }
die() { printf 'bench-backup: %s\n' "$*" >&2; exit 1; }
[[ $BENCH_BACKUP_MB =~ ^[1-9][0-9]*$ ]] || die "BENCH_BACKUP_MB must be a positive integer"
[[ $BENCH_RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
/usr/bin/time -f %M true >/dev/null 2>&1 || die "GNU time is needed at /usr/bin/time (apt-get install time)"
command -v aws >/dev/null || die "the aws CLI is needed for the old way (apt-get install awscli)"
gobin=$(go env GOBIN); [[ -n $gobin ]] || { gopath=$(go env GOPATH); gobin=${gopath%%:*}/bin; }
bash scripts/tools.sh versitygw >/dev/null
[[ $server_url =~ ^(postgres(ql)?://[^/?#]*)(/[^?#]*)?(\?[^#]*)?$ ]] || die "DATABASE_URL must be a URL"
url_base=${BASH_REMATCH[1]} url_query=${BASH_REMATCH[4]}
big=cortexctl_bench_backup small=cortexctl_bench_backup_small
maint="$url_base/postgres$url_query"

make build >/dev/null
bin=bin/cortexctl

# ---------------------------------------------------------------- data
exists() { [[ $(psql "$maint" -XqtAc "SELECT 1 FROM pg_database WHERE datname = '$1'") == 1 ]]; }
generate() { # NAME MB
  local name=$1 mb=$2 rows
  if [[ $BENCH_KEEP == 1 ]] && exists "$name"; then info "reusing $name"; return; fi
  # about 175 bytes a row with its indexes (measured): realistic usage rows.
  rows=$((mb * 1024 * 1024 / 175))
  info "generating $name: $rows usage rows (~$mb MB)"
  psql "$maint" -Xq -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
  DATABASE_URL="$url_base/$name$url_query" "$bin" db migrate >/dev/null
  psql "$url_base/$name$url_query" -Xq -v ON_ERROR_STOP=1 <<SQL
INSERT INTO clients (email, company_name, plan_code)
SELECT 'bench-' || g || '@example.test', 'Bench ' || g, 'growth' FROM generate_series(1, 10000) g;
CREATE TEMP TABLE ids AS SELECT row_number() OVER () AS n, id FROM clients;
INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at)
SELECT ids.id, CASE WHEN g % 10 = 0 THEN 'ingest' ELSE 'query' END, 1 + g % 3,
       now() - (g % 2592000) * interval '1 second'
FROM generate_series(1, $rows) g JOIN ids ON ids.n = 1 + g % 10000;
VACUUM ANALYZE;
SQL
}
generate "$big" "$BENCH_BACKUP_MB"
generate "$small" $((BENCH_BACKUP_MB / 2))
size() { psql "$maint" -XqtAc "SELECT pg_database_size('$1')"; }
big_bytes=$(size "$big") small_bytes=$(size "$small")
info "database sizes: $big $((big_bytes >> 20)) MiB, $small $((small_bytes >> 20)) MiB"

# ---------------------------------------------------------------- S3 server
port=7079
vdir=$(mktemp -d "$PWD/$out/vgw.XXXXXX")
export AWS_ACCESS_KEY_ID=cortexctl-bench AWS_SECRET_ACCESS_KEY=cortexctl-bench-secret AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY "$gobin/versitygw" --port "127.0.0.1:$port" posix "$vdir" >"$out/vgw.log" 2>&1 &
vgw=$!
cleanup() { kill "$vgw" 2>/dev/null || true; wait "$vgw" 2>/dev/null || true; rm -rf "$vdir" "$out/old.dump"; }
trap cleanup EXIT
endpoint=http://127.0.0.1:$port
for _ in $(seq 50); do curl -s -o /dev/null "$endpoint" && break; sleep 0.2; done
aws --endpoint-url "$endpoint" s3 mb s3://bench >/dev/null
export AWS_ENDPOINT_URL_S3=$endpoint

# ---------------------------------------------------------------- runs
# timed NAME CMD...: appends NAME and CMD's wall-clock seconds to $out/times.
timed() {
  local name=$1 t0
  shift
  t0=$EPOCHREALTIME
  "$@" >/dev/null 2>"$out/$name.err" || die "$name failed: $(tail -n 5 "$out/$name.err")"
  printf '%s %s\n' "$name" "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')" >>"$out/times"
}
url_big="$url_base/$big$url_query" url_small="$url_base/$small$url_query"
backup() { DATABASE_URL=$1 "$bin" db backup --to "s3://bench/$2" --keep-min 1 -o json --log-format json; }
dump_null() { pg_dump --format=custom --dbname="$url_big" >/dev/null; }
old_way() { pg_dump --format=custom --dbname="$url_big" -f "$out/old.dump" && aws --endpoint-url "$endpoint" s3 cp --quiet "$out/old.dump" s3://bench/old/old.dump; }
: >"$out/times"
info "warm-up"
timed warm-a backup "$url_big" warm
timed warm-b dump_null
for r in $(seq "$BENCH_RUNS"); do
  info "round $r of $BENCH_RUNS"
  timed a backup "$url_big" big
  timed b dump_null
  timed c old_way
done
# Peak RSS, on the big database and on the small one: of cortexctl itself
# (its VmHWM, sampled until it exits), and of the largest process of the
# tree it runs (GNU time; pg_dump or pg_restore --list when they are larger).
own_peak() { # URL PREFIX: prints cortexctl's own peak RSS in KiB
  DATABASE_URL=$1 "$bin" db backup --to "s3://bench/$2" --keep-min 1 -o json >/dev/null 2>&1 &
  local pid=$! hwm=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null) && [[ -n $v ]] && hwm=$v
    sleep 0.05
  done
  wait "$pid" || die "db backup failed while its memory was measured"
  echo "$hwm"
}
own_big=$(( $(own_peak "$url_big" rss-own) / 1024 )) own_small=$(( $(own_peak "$url_small" rss-own-small) / 1024 ))
/usr/bin/time -f %M -o "$out/rss-big" env DATABASE_URL="$url_big" "$bin" db backup --to s3://bench/rss --keep-min 1 -o json >/dev/null 2>&1
/usr/bin/time -f %M -o "$out/rss-small" env DATABASE_URL="$url_small" "$bin" db backup --to s3://bench/rss-small --keep-min 1 -o json >/dev/null 2>&1

median() { awk -v n="$1" '$1 == n { print $2 }' "$out/times" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
a=$(median a) b=$(median b) c=$(median c)
rss_big=$(( $(tail -n 1 "$out/rss-big") / 1024 )) rss_small=$(( $(tail -n 1 "$out/rss-small") / 1024 ))
ab=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
ca=$(awk -v a="$a" -v c="$c" 'BEGIN { printf "%.2f", c / a }')
dump_mib=$(aws --endpoint-url "$endpoint" s3 ls --recursive s3://bench/big/ | awk '/dump.pgcustom/ { s = $3 } END { printf "%.0f", s / 1048576 }')
verdict() { awk -v ok="$1" 'BEGIN { print (ok ? "**MET**" : "**NOT MET**") }'; }
{
  echo "Run on $(date -u '+%Y-%m-%d %H:%M') UTC by \`make bench-backup\` (scripts/bench-backup.sh), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (work tree with uncommitted changes)')."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| machine | $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg) at the end |"
  echo "| database | \`$big\`: $((big_bytes >> 20)) MiB (pg_database_size), 10,000 clients and their usage rows; the dump is $dump_mib MiB |"
  echo "| store | a private versitygw (posix backend) on 127.0.0.1, the same disk |"
  echo "| runs | 1 warm-up, then $BENCH_RUNS rounds of (a), (b), (c) in turn; medians of wall-clock seconds |"
  echo
  echo "| | command | median s |"
  echo "|---|---|--:|"
  echo "| (a) | \`cortexctl db backup --to s3://…\` (dump, row counts, TOC read-back, upload, manifest, retention) | $a |"
  echo "| (b) | \`pg_dump --format=custom > /dev/null\` | $b |"
  echo "| (c) | \`pg_dump --format=custom -f file && aws s3 cp file s3://…\` (the old way) | $c |"
  echo
  echo "| target | measured | verdict |"
  echo "|---|---|---|"
  echo "| (a) at most ${TARGET_VS_DUMP}× (b) | a/b = $ab | $(verdict "$(awk -v x="$ab" -v t="$TARGET_VS_DUMP" 'BEGIN { print (x <= t) }')") |"
  echo "| (a) faster than (c) | c/a = $ca | $(verdict "$(awk -v x="$ca" 'BEGIN { print (x > 1) }')") |"
  echo "| peak RSS of \`db backup\` (cortexctl itself) under ${TARGET_RSS_MIB} MiB at both sizes | $own_big MiB at $((big_bytes >> 20)) MiB, $own_small MiB at $((small_bytes >> 20)) MiB | $(verdict "$(( own_big < TARGET_RSS_MIB && own_small < TARGET_RSS_MIB ))") |"
  echo
  echo "The largest process of the tree \`db backup\` runs (GNU time: pg_dump or pg_restore --list when larger than cortexctl): $rss_big MiB at $((big_bytes >> 20)) MiB, $rss_small MiB at $((small_bytes >> 20)) MiB."
  echo
  echo "Every timed run, in seconds:"
  echo
  echo '```'
  cat "$out/times"
  echo '```'
} >"$out/backup.md"
echo
cat "$out/backup.md"
if [[ $BENCH_DOC != - ]]; then
  write_doc_section "$BENCH_DOC" "Latest backup figures" \
    '<!-- bench-backup:begin: written by scripts/bench-backup.sh; edit the script, not this section -->' '<!-- bench-backup:end -->' "$out/backup.md"
  info "figures written to $BENCH_DOC"
fi
