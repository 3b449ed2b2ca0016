#!/usr/bin/env bash
# `make demo`: builds cortexctl, makes sure a PostgreSQL answers (starting a
# throwaway cluster under .dev/ when none does), creates the database, seeds the
# demo clients and runs the billing jobs, first as a dry run, then for real.
#
# Environment:
#   DATABASE_URL       default postgres://postgres:postgres@localhost:5432/cortexlayer
#   STRIPE_API_KEY     if set (a test key), overage pushes charges to Stripe;
#                      otherwise it runs with --no-stripe
#   DEMO_ALLOW_REMOTE  set to 1 to run against a database host that is not local
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

DEV_PORT=54329
dev=$root/.dev
pgdata=$dev/pg
sockdir=$dev/sock
pglog=$dev/pg.log
bin=$root/bin/cortexctl

header() { printf '\n=== %s ===\n' "$*"; }
info() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
redact() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }
urldecode() { local s=${1//+/ }; printf '%b' "${s//%/\\x}"; }

# pg_bin NAME: a PostgreSQL program from PATH, else from the newest
# /usr/lib/postgresql/*/bin (where Debian keeps initdb and pg_ctl).
pg_bin() {
  local dir
  command -v "$1" && return
  while read -r dir; do
    [[ -x $dir/$1 ]] && { echo "$dir/$1"; return; }
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
  return 1
}

# parse_url URL: sets url_base (scheme://userinfo@host:port), url_db (decoded
# database name), url_db_raw, url_query (?..., may be empty) and url_host.
parse_url() {
  local re='^(postgres(ql)?://([^/?#]*))(/([^?#]*))?(\?[^#]*)?$' hostport
  [[ $1 =~ $re ]] || die "DATABASE_URL must look like postgres://user:password@host:port/dbname (got: $(redact "$1"))"
  url_base=${BASH_REMATCH[1]}
  url_db_raw=${BASH_REMATCH[5]}
  url_query=${BASH_REMATCH[6]}
  url_db=$(urldecode "$url_db_raw")
  hostport=${BASH_REMATCH[3]##*@}
  if [[ $hostport == \[* ]]; then url_host=${hostport%%]*}]; else url_host=${hostport%%:*}; fi
  if [[ $url_query =~ [?\&]host=([^\&]*) ]]; then url_host=$(urldecode "${BASH_REMATCH[1]}"); fi
}

is_local_host() {
  case $1 in
    "" | localhost | 127.* | "[::1]" | ::1 | /*) return 0 ;;
    *) return 1 ;;
  esac
}

# ---------------------------------------------------------------- checks
DATABASE_URL=${DATABASE_URL:-postgres://postgres:postgres@localhost:5432/cortexlayer}
parse_url "$DATABASE_URL"
if ! is_local_host "$url_host" && [[ ${DEMO_ALLOW_REMOTE:-} != 1 ]]; then
  die "the demo seeds data and runs the billing jobs for real; refusing the non-local host '$url_host'. Set DEMO_ALLOW_REMOTE=1 if that database is a scratch one."
fi
case ${STRIPE_API_KEY:-} in
  sk_live_* | rk_live_*) die "STRIPE_API_KEY is a live key; the demo only runs with a test key (sk_test_...) or none" ;;
esac
psql=$(pg_bin psql) || die "psql is not installed (Debian: apt-get install postgresql-client)"
pg_isready=$(pg_bin pg_isready) || die "pg_isready is not installed (Debian: apt-get install postgresql-client)"

# ---------------------------------------------------------------- 1. build
header "make build"
make --no-print-directory build

# ---------------------------------------------------------------- 2. PostgreSQL
# server_state URL: 0 accepting, 1 rejecting (starting up), 2 no answer.
server_state() { local rc=0; "$pg_isready" -q -t 3 -d "$1" || rc=$?; return "$rc"; }

# wait_ready URL SECONDS
wait_ready() {
  local deadline=$((SECONDS + $2))
  until server_state "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

stop_hint=""
print_stop_hint() { [[ -z $stop_hint ]] || info "the demo cluster keeps running; stop it with: $stop_hint"; }
trap print_stop_hint EXIT

start_dev_cluster() {
  local initdb pg_ctl bindir status=0 as_pg=() pg_user
  initdb=$(pg_bin initdb) ||
    die "no PostgreSQL answers at $(redact "$DATABASE_URL") and initdb is not installed to start one: install PostgreSQL (Debian: apt-get install postgresql) or point DATABASE_URL at a server"
  bindir=$(dirname "$(readlink -f "$initdb")")
  if [[ -x $bindir/pg_ctl ]]; then pg_ctl=$bindir/pg_ctl; else pg_ctl=$(pg_bin pg_ctl) || die "pg_ctl is not installed"; fi
  [[ $root != *"'"* ]] || die "the checkout path contains a quote ('): move it to start the demo cluster"

  # initdb and postgres refuse to run as root: run them as the cluster's owner
  # (the postgres user for a new cluster).
  if ((EUID == 0)); then
    if [[ -d $pgdata ]]; then pg_user=$(stat -c %U "$pgdata"); else pg_user=postgres; fi
    [[ $pg_user != root ]] || die "$pgdata is owned by root, which PostgreSQL refuses; remove .dev/ and run again"
    id -u "$pg_user" >/dev/null 2>&1 ||
      die "running as root, initdb needs an unprivileged user and there is no '$pg_user' user; run make demo as a normal user"
    command -v runuser >/dev/null || die "running as root, runuser (util-linux) is needed to start PostgreSQL as $pg_user"
    as_pg=(runuser -u "$pg_user" --)
    "${as_pg[@]}" test -x "$root" ||
      die "the $pg_user user cannot enter $root (check the permissions of its parent directories), so it cannot run a cluster in .dev/"
  fi
  own() { if ((EUID == 0)); then chown "$pg_user:" "$@"; fi; }

  mkdir -p "$dev"
  if [[ ! -f $pgdata/PG_VERSION ]]; then
    [[ ! -e $pgdata ]] || die "$pgdata exists but holds no cluster; remove it and run again"
    info "starting a throwaway PostgreSQL cluster in .dev/pg (127.0.0.1:$DEV_PORT, trust auth, socket in .dev/sock)"
    install -d -m 700 "$pgdata"
    own "$pgdata"
    if ! "${as_pg[@]}" "$initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync \
      >"$dev/initdb.log" 2>&1; then
      cat "$dev/initdb.log" >&2
      rm -rf "$pgdata"
      die "initdb failed (output above)"
    fi
    local sockets="'$sockdir'"
    # A Unix socket path must fit in 107 bytes; without one, TCP is enough.
    ((${#sockdir} + 16 < 107)) || sockets="''"
    cat >>"$pgdata/postgresql.conf" <<EOF

# Added by scripts/demo.sh: a throwaway cluster for the cortexctl demo, not for real data.
port = $DEV_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = $sockets
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  else
    info "reusing the demo cluster in .dev/pg (127.0.0.1:$DEV_PORT)"
  fi

  if [[ -n ${as_pg[*]} ]]; then stop_hint="${as_pg[*]} "; fi
  if [[ $(readlink -f "$(command -v pg_ctl)" 2>/dev/null) == "$(readlink -f "$pg_ctl")" ]]; then stop_hint+=pg_ctl; else stop_hint+=$pg_ctl; fi
  stop_hint+=" -D .dev/pg stop"

  "${as_pg[@]}" "$pg_ctl" -D "$pgdata" status >/dev/null 2>&1 || status=$?
  if ((status == 0)); then
    info "it is already running"
  else
    install -d -m 755 "$sockdir"
    touch "$pglog"
    own "$sockdir" "$pglog"
    if ! "${as_pg[@]}" "$pg_ctl" -D "$pgdata" -l "$pglog" -w -t 60 start >/dev/null; then
      tail -n 20 "$pglog" >&2
      die "the cluster in .dev/pg did not start (log above, in .dev/pg.log; is port $DEV_PORT taken?)"
    fi
    info "started (log: .dev/pg.log)"
  fi
  DATABASE_URL="postgres://postgres@127.0.0.1:$DEV_PORT/$url_db_raw?sslmode=disable"
}

header "PostgreSQL"
state=0
server_state "$DATABASE_URL" || state=$?
if ((state == 1)); then
  info "the server at $(redact "$DATABASE_URL") is starting up; waiting up to 30s"
  wait_ready "$DATABASE_URL" 30 || state=$?
fi
if ((state == 0)); then
  info "using the server at $(redact "$DATABASE_URL")"
else
  info "nothing answers at $(redact "$DATABASE_URL")"
  start_dev_cluster
  wait_ready "$DATABASE_URL" 30 || die "the demo cluster does not answer at $(redact "$DATABASE_URL"); see .dev/pg.log"
  info "using $(redact "$DATABASE_URL")"
fi
export DATABASE_URL
parse_url "$DATABASE_URL"

# ---------------------------------------------------------------- 3. database
if [[ -z $url_db ]]; then
  info "DATABASE_URL names no database; using the server's default"
else
  maint_url="$url_base/postgres$url_query"
  exists=$("$psql" "$maint_url" -XqtA -v ON_ERROR_STOP=1 -v db="$url_db" <<'SQL'
SELECT 1 FROM pg_database WHERE datname = :'db';
SQL
  ) || die "cannot query the maintenance database at $(redact "$maint_url") (psql's message above)"
  if [[ $exists == 1 ]]; then
    info "database '$url_db' exists"
  else
    info "creating database '$url_db'"
    "$psql" "$maint_url" -Xq -v ON_ERROR_STOP=1 -v db="$url_db" <<'SQL' || die "could not create database '$url_db'"
CREATE DATABASE :"db";
SQL
  fi
fi

# ---------------------------------------------------------------- 4. the jobs
# run [--partial-ok] ARGS...: run bin/cortexctl ARGS and show its exit code.
# Any non-zero code stops the demo, except 3 (partial) with --partial-ok.
run() {
  local partial_ok=false rc=0
  if [[ $1 == --partial-ok ]]; then partial_ok=true; shift; fi
  printf '\n$ cortexctl %s\n' "$*"
  "$bin" "$@" || rc=$?
  case $rc in
    0) info "exit 0 (ok)" ;;
    3) $partial_ok || die "'cortexctl $*' exited 3; stopping the demo"
      info "exit 3 (partial: some clients failed, the others were committed)" ;;
    *) die "'cortexctl $*' failed with exit code $rc; stopping the demo" ;;
  esac
}

# Tables and console logs even when the output is piped (flags still win).
export CORTEXCTL_OUTPUT=${CORTEXCTL_OUTPUT:-table}
export CORTEXCTL_LOG_FORMAT=${CORTEXCTL_LOG_FORMAT:-console}

header "migrate and seed"
run db migrate
run db seed --demo --force

stripe_flags=(--no-stripe)
if [[ -n ${STRIPE_API_KEY:-} ]]; then
  stripe_flags=()
  info "STRIPE_API_KEY is set: overage pushes charges to Stripe (test mode)"
fi

header "billing overage: dry run, then for real"
run --partial-ok billing overage --dry-run "${stripe_flags[@]}" --output table
run --partial-ok billing overage "${stripe_flags[@]}" --output table

header "billing grace: dry run, then for real"
run --partial-ok billing grace --dry-run --output table
run --partial-ok billing grace --output table

header "backup: back up, list, verify, restore into a scratch database"
# BACKUP_URL may point elsewhere (s3://...); the demo's default needs no cloud account.
export BACKUP_URL=${BACKUP_URL:-file://$dev/backups}
run db backup --output table
run db backups
run db verify latest
if [[ -n ${maint_url:-} ]]; then
  restored="${url_db}_demo_restore"
  "$psql" "$maint_url" -Xq -v ON_ERROR_STOP=1 -v db="$restored" <<'SQL' || die "could not create the scratch database '$restored'"
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
CREATE DATABASE :"db";
SQL
  run db restore latest --target-url "$url_base/$restored$url_query" --yes
  info "the scratch database holds $("$psql" "$url_base/$restored$url_query" -XqtA -c 'SELECT count(*) FROM clients') clients; dropping it"
  "$psql" "$maint_url" -Xq -v ON_ERROR_STOP=1 -v db="$restored" <<'SQL' || die "could not drop the scratch database '$restored'"
DROP DATABASE :"db" WITH (FORCE);
SQL
fi

header "job history"
run jobs history --limit 10 --output table

header "done"
info "the demo data is in $(redact "$DATABASE_URL"), its backups in $BACKUP_URL; run bin/cortexctl --help for more"
