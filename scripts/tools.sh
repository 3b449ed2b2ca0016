#!/usr/bin/env bash
# Installs the pinned tools that `make lint`, `make test` and CI need into
# $(go env GOPATH)/bin (or GOBIN), reusing a copy that is already there at the
# pinned version. The versions are pinned here and nowhere else.
#
#   scripts/tools.sh                  install what is missing or at another version
#   scripts/tools.sh --check          only report; exit 1 if something is missing
#   scripts/tools.sh [--check] NAME... only these tools, e.g. `stripe-mock gotestsum versitygw supercronic`
#                                     (scripts/test.sh needs no golangci-lint)
#
# supercronic (the cron of the compose sidecar) is what the crontab tests in
# cmd/cortexctl validate crontab/supercronic.cron with and run jobs under.
#
# versitygw (the S3 server of the object store tests) takes about two minutes
# to build the first time; later runs reuse the binary.
set -euo pipefail

STRIPE_MOCK_VERSION=v0.203.0
GOLANGCI_LINT_VERSION=v2.15.0
GOTESTSUM_VERSION=v1.13.0
VERSITYGW_VERSION=v1.8.0
SUPERCRONIC_VERSION=v0.2.48

usage() { echo "usage: $0 [--check] [stripe-mock|golangci-lint|gotestsum|versitygw|supercronic ...]" >&2; exit 2; }

check_only=false
if [[ ${1:-} == --check ]]; then
  check_only=true
  shift
fi
wanted=("$@")
for name in "${wanted[@]}"; do
  case $name in
    stripe-mock | golangci-lint | gotestsum | versitygw | supercronic) ;;
    *) usage ;;
  esac
done

gobin=$(go env GOBIN)
if [[ -z $gobin ]]; then
  gopath=$(go env GOPATH)
  gobin="${gopath%%:*}/bin" # go install uses the first GOPATH entry
fi

missing=0

# ensure NAME MODULE PACKAGE VERSION; does nothing for a tool not asked for.
ensure() {
  local name=$1 module=$2 pkg=$3 version=$4 bin="$gobin/$1" have=""
  if ((${#wanted[@]} > 0)) && [[ " ${wanted[*]} " != *" $name "* ]]; then
    return
  fi
  if [[ -x $bin ]]; then
    # The module version is recorded in the binary by `go install`.
    have=$(go version -m "$bin" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3 }')
  fi
  if [[ $have == "$version" ]]; then
    echo "tools: $name $version already at $bin"
    return
  fi
  if $check_only; then
    echo "tools: $name $version missing (found: ${have:-none}); run 'make tools'" >&2
    missing=1
    return
  fi
  echo "tools: installing $name $version into $gobin (found: ${have:-none})"
  local start=$SECONDS
  GOBIN=$gobin go install "$pkg@$version"
  echo "tools: $name $version installed in $((SECONDS - start))s"
}

ensure stripe-mock github.com/stripe/stripe-mock \
  github.com/stripe/stripe-mock "$STRIPE_MOCK_VERSION"
ensure golangci-lint github.com/golangci/golangci-lint/v2 \
  github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION"
ensure gotestsum gotest.tools/gotestsum \
  gotest.tools/gotestsum "$GOTESTSUM_VERSION"
ensure versitygw github.com/versity/versitygw \
  github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"
ensure supercronic github.com/aptible/supercronic \
  github.com/aptible/supercronic "$SUPERCRONIC_VERSION"

exit "$missing"
