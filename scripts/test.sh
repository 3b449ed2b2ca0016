#!/usr/bin/env bash
# `make test`: runs every test with -race against the real services.
#
#   scripts/test.sh [go test flags...]   e.g. scripts/test.sh -run TestOverage -v
#
# 1. Installs the pinned stripe-mock, gotestsum, supercronic and versitygw if missing
#    (scripts/tools.sh; versitygw only when the S3 tests are not opted out).
# 2. PostgreSQL (CORTEXCTL_TEST_DATABASE_URL) is the machine's service: if it
#    does not answer, says how to start it and exits 1 (`.ci/run` starts it).
# 3. stripe-mock (STRIPE_MOCK_URL, default http://127.0.0.1:STRIPE_MOCK_PORT):
#    if nothing answers there, starts the pinned one on 127.0.0.1:
#    STRIPE_MOCK_PORT (http, 12111) and STRIPE_MOCK_HTTPS_PORT (https, 12112),
#    waits until it answers, and stops it on exit, also on failure or Ctrl-C.
#    One that already answers is used and left alone. A STRIPE_MOCK_URL
#    elsewhere is never started: a warning, then its tests fail.
# 4. The S3 server (CORTEXCTL_TEST_S3_ENDPOINT, default
#    http://127.0.0.1:CORTEXCTL_TEST_S3_PORT, 7070): if nothing answers there,
#    starts the pinned versitygw on that port with the test credentials
#    (internal/objstore/objstoretest) and a new data directory, waits until it
#    answers, and on exit stops it and removes the directory. As for
#    stripe-mock, one that already answers is used and left alone, and an
#    endpoint elsewhere is never started. The object store tests also read
#    what was uploaded with the aws CLI (`aws`; apt-get install awscli).
# 5. Redis (CORTEXCTL_TEST_REDIS_URL, default
#    redis://127.0.0.1:CORTEXCTL_TEST_REDIS_PORT, 6379): if no Redis answers
#    PING there, starts redis-server (apt-get install redis-server) on
#    127.0.0.1 at that port without persistence (--save "" --appendonly no,
#    its --dir a new directory), waits until it answers, and on exit stops it
#    (SIGTERM; it runs in the foreground, not --daemonize, so that this
#    script holds its pid) and removes the directory. As for the others, one
#    that already answers (the machine's service) is used and left alone, and
#    a URL elsewhere is never started.
#    nginx is only looked for: the infra/ tests run `nginx -t` and an nginx
#    of their own on infra/nginx.conf; without it, a warning, then they fail
#    (apt-get install nginx-light, or CORTEXCTL_TEST_SKIP=nginx).
# 6. Runs the tests with gotestsum. Its summary lists each skipped and failed
#    test with its output ("=== Skipped", "=== Failed") and ends with
#    "DONE N tests[, M skipped][, F failures] in Ts"; then this script prints
#    how many tests were skipped.
#
# A service named in CORTEXCTL_TEST_SKIP (comma-separated, e.g. stripe-mock,s3,redis) is
# not started, and the tests that need it skip if it does not answer; without
# that, they fail (internal/testenv). The exit status is the tests' status.
# Each service has its own service_<name> function; add the next one the same way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CORTEXCTL_TEST_DATABASE_URL=${CORTEXCTL_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
STRIPE_MOCK_PORT=${STRIPE_MOCK_PORT:-12111}
STRIPE_MOCK_HTTPS_PORT=${STRIPE_MOCK_HTTPS_PORT:-12112}
export STRIPE_MOCK_URL=${STRIPE_MOCK_URL:-http://127.0.0.1:$STRIPE_MOCK_PORT}
S3_PORT=${CORTEXCTL_TEST_S3_PORT:-7070}
export CORTEXCTL_TEST_S3_ENDPOINT=${CORTEXCTL_TEST_S3_ENDPOINT:-http://127.0.0.1:$S3_PORT}
# The credentials of the S3 server this script starts, as in
# internal/objstore/objstoretest (AccessKey, SecretKey).
S3_ACCESS_KEY=cortexctl-test
S3_SECRET_KEY=cortexctl-test-secret
REDIS_PORT=${CORTEXCTL_TEST_REDIS_PORT:-6379}
export CORTEXCTL_TEST_REDIS_URL=${CORTEXCTL_TEST_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}
export CORTEXCTL_TEST_SKIP=${CORTEXCTL_TEST_SKIP:-}

say() { printf 'test: %s\n' "$*"; }
fail() { printf 'test: %s\n' "$*" >&2; exit 1; }
started=$SECONDS

gobin=$(go env GOBIN)
[[ -n $gobin ]] || { gopath=$(go env GOPATH); gobin="${gopath%%:*}/bin"; }
export PATH="$gobin:$PATH"

# opted_out SERVICE: CORTEXCTL_TEST_SKIP lists SERVICE (as testenv.Skipped).
opted_out() {
  local name names
  IFS=, read -ra names <<<"$CORTEXCTL_TEST_SKIP"
  for name in "${names[@]}"; do
    name=${name// /}
    [[ ${name,,} == "${1,,}" ]] && return 0
  done
  return 1
}

# Services this run started, stopped in reverse order on exit: "name pid log".
started_services=()
# Directories this run made for the services it started, removed on exit.
service_dirs=()
events="" # go test -json events of the run, for counting skips
cleanup() {
  local rc=$? i name pid log dir
  [[ -z $events ]] || rm -f "$events"
  for ((i = ${#started_services[@]} - 1; i >= 0; i--)); do
    read -r name pid log <<<"${started_services[i]}"
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping the $name this run started (pid $pid)"
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
    if ((rc == 0)); then rm -f "$log"; else say "$name's log is kept at $log" >&2; fi
  done
  for dir in "${service_dirs[@]}"; do
    rm -rf "$dir"
  done
  if ((rc == 0)); then
    say "passed in $((SECONDS - started))s"
  else
    say "FAILED (exit $rc) after $((SECONDS - started))s" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_service NAME CHECK TIMEOUT COMMAND...: runs COMMAND in the background,
# records it for cleanup, and waits until CHECK succeeds.
start_service() {
  local name=$1 check=$2 timeout=$3 log pid deadline
  shift 3
  log=$(mktemp "/tmp/cortexctl-test-$name.XXXXXX.log")
  # Background jobs of a non-interactive shell ignore SIGINT, so Ctrl-C
  # reaches the tests; cleanup stops the service.
  "$@" </dev/null >"$log" 2>&1 &
  pid=$!
  started_services+=("$name $pid $log")
  say "started $name (pid $pid, log $log)"
  deadline=$((SECONDS + timeout))
  until "$check"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log" >&2
      fail "$name exited before answering (its log is above; is a port taken?)"
    elif ((SECONDS >= deadline)); then
      cat "$log" >&2
      fail "$name did not answer within ${timeout}s"
    fi
    sleep 0.2
  done
  say "$name answers"
}

# One function per service: check it, start it when the tests may need it.

postgres_answers() {
  psql -w "$CORTEXCTL_TEST_DATABASE_URL" -XtAqc 'SELECT 1' </dev/null >/dev/null 2>&1
}

service_postgres() {
  local shown
  # The URL without its password, as printed.
  shown=$(sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$CORTEXCTL_TEST_DATABASE_URL")
  command -v psql >/dev/null || fail "psql not found: install the PostgreSQL client (apt-get install postgresql-client)"
  if postgres_answers; then
    say "PostgreSQL answers at $shown"
    return
  fi
  fail "PostgreSQL does not answer at $shown (CORTEXCTL_TEST_DATABASE_URL).
  Start the machine's server, e.g.
    pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start
  (bash .ci/run does this), or point CORTEXCTL_TEST_DATABASE_URL at a server
  whose role can create databases. 'make demo' runs its own cluster, not this one."
}

stripe_mock_answers() {
  curl -fsS -o /dev/null --max-time 2 -H 'Authorization: Bearer sk_test_123' \
    "$STRIPE_MOCK_URL/v1/customers" 2>/dev/null
}

service_stripe_mock() {
  local own=http://127.0.0.1:$STRIPE_MOCK_PORT
  if stripe_mock_answers; then
    say "stripe-mock answers at $STRIPE_MOCK_URL; using it"
  elif opted_out stripe-mock; then
    say "stripe-mock does not answer at $STRIPE_MOCK_URL and CORTEXCTL_TEST_SKIP lists it: not starting it; its tests will skip"
  elif [[ ${STRIPE_MOCK_URL%/} != "$own" ]]; then
    say "WARNING: nothing answers at STRIPE_MOCK_URL=$STRIPE_MOCK_URL and only $own is started here; the tests that need stripe-mock will fail (unset STRIPE_MOCK_URL, or set CORTEXCTL_TEST_SKIP=stripe-mock)" >&2
  else
    start_service stripe-mock stripe_mock_answers 30 \
      stripe-mock -http-addr "127.0.0.1:$STRIPE_MOCK_PORT" -https-addr "127.0.0.1:$STRIPE_MOCK_HTTPS_PORT"
  fi
}

s3_answers() {
  # Any HTTP answer will do (versitygw answers 403 to an unsigned GET /).
  curl -sS -o /dev/null --max-time 2 "$CORTEXCTL_TEST_S3_ENDPOINT/" 2>/dev/null
}

service_s3() {
  local own=http://127.0.0.1:$S3_PORT dir
  if s3_answers; then
    say "an S3 server answers at $CORTEXCTL_TEST_S3_ENDPOINT; using it (the tests sign with access key $S3_ACCESS_KEY)"
  elif opted_out s3; then
    say "no S3 server answers at $CORTEXCTL_TEST_S3_ENDPOINT and CORTEXCTL_TEST_SKIP lists s3: not starting one; its tests will skip"
  elif [[ ${CORTEXCTL_TEST_S3_ENDPOINT%/} != "$own" ]]; then
    say "WARNING: nothing answers at CORTEXCTL_TEST_S3_ENDPOINT=$CORTEXCTL_TEST_S3_ENDPOINT and only $own is started here; the tests that need S3 will fail (unset CORTEXCTL_TEST_S3_ENDPOINT, or set CORTEXCTL_TEST_SKIP=s3)" >&2
  else
    dir=$(mktemp -d /tmp/cortexctl-test-s3.XXXXXX)
    service_dirs+=("$dir")
    start_service versitygw s3_answers 30 \
      env ROOT_ACCESS_KEY="$S3_ACCESS_KEY" ROOT_SECRET_KEY="$S3_SECRET_KEY" \
      versitygw --port "127.0.0.1:$S3_PORT" --quiet posix "$dir"
  fi
  if ! opted_out s3 && ! opted_out aws-cli && ! command -v aws >/dev/null; then
    say "WARNING: the aws CLI is not installed: TestS3ObjectsReadByAWSCLI will fail (apt-get install awscli, or set CORTEXCTL_TEST_SKIP=aws-cli)" >&2
  fi
}

redis_answers() {
  [[ $(timeout 2 redis-cli --no-auth-warning -u "$CORTEXCTL_TEST_REDIS_URL" ping 2>/dev/null) == PONG ]]
}

service_redis() {
  local own=redis://127.0.0.1:$REDIS_PORT shown dir
  # The URL without its password, as printed.
  shown=$(sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$CORTEXCTL_TEST_REDIS_URL")
  if opted_out redis && ! command -v redis-cli >/dev/null; then
    say "redis-cli not found and CORTEXCTL_TEST_SKIP lists redis: not starting Redis; its tests will skip unless one answers"
    return
  fi
  command -v redis-cli >/dev/null ||
    fail "redis-cli not found: install Redis (apt-get install redis-server), or set CORTEXCTL_TEST_SKIP=redis"
  if redis_answers; then
    say "Redis answers at $shown; using it"
  elif opted_out redis; then
    say "Redis does not answer at $shown and CORTEXCTL_TEST_SKIP lists it: not starting it; its tests will skip"
  elif [[ ${CORTEXCTL_TEST_REDIS_URL%/} != "$own" ]]; then
    say "WARNING: no Redis answers at CORTEXCTL_TEST_REDIS_URL=$shown and only $own is started here; the tests that need Redis will fail (unset CORTEXCTL_TEST_REDIS_URL, or set CORTEXCTL_TEST_SKIP=redis)" >&2
  else
    command -v redis-server >/dev/null ||
      fail "redis-server not found: apt-get install redis-server, or set CORTEXCTL_TEST_SKIP=redis"
    dir=$(mktemp -d /tmp/cortexctl-test-redis.XXXXXX)
    service_dirs+=("$dir")
    start_service redis-server redis_answers 30 \
      redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$dir" --daemonize no
  fi
}

# nginx is not a service the tests talk to: infra/ runs `nginx -t` and a
# throwaway nginx of its own on infra/nginx.conf. Only say when it is missing.
service_nginx() {
  if ! opted_out nginx && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    say "WARNING: nginx is not installed: the infra/nginx.conf tests will fail (apt-get install nginx-light, or set CORTEXCTL_TEST_SKIP=nginx)" >&2
  fi
}

# run_tests GO_TEST_FLAGS...: returns the tests' status.
run_tests() {
  local rc=0 skipped
  [[ -z $CORTEXCTL_TEST_SKIP ]] || say "CORTEXCTL_TEST_SKIP=$CORTEXCTL_TEST_SKIP: the tests needing these skip when they do not answer"
  say "go test -race -count=1${*:+ $*} ./..."
  events=$(mktemp /tmp/cortexctl-test-events.XXXXXX.json)
  # gotestsum ends with its summary: "=== Skipped" (each skipped test and
  # why), "=== Failed", then "DONE N tests[, M skipped][, F failures] in Ts".
  gotestsum --format pkgname-and-test-fails --format-hide-empty-pkg --jsonfile "$events" \
    -- -race -count=1 "$@" ./... || rc=$?
  # go test -json: a skipped test is an "Action":"skip" event with a "Test".
  skipped=$(grep -F '"Action":"skip"' "$events" | grep -cF '"Test":' || true)
  if ((skipped == 0)); then
    say "0 tests skipped"
  else
    say "$skipped tests skipped${CORTEXCTL_TEST_SKIP:+ (CORTEXCTL_TEST_SKIP=$CORTEXCTL_TEST_SKIP)}; why: see '=== Skipped' above"
  fi
  return "$rc"
}

tools=(stripe-mock gotestsum supercronic)
opted_out s3 || tools+=(versitygw)
bash scripts/tools.sh "${tools[@]}"
service_postgres
service_stripe_mock
service_s3
service_redis
service_nginx
run_tests "$@"
