#!/usr/bin/env bash
# Installs the pinned tools that `make lint`, `make test` and CI need into
# $(go env GOPATH)/bin (or GOBIN), reusing a copy that is already there at the
# pinned version. The versions are pinned here and nowhere else.
#
#   scripts/tools.sh          install what is missing or at another version
#   scripts/tools.sh --check  only report; exit 1 if something is missing
set -euo pipefail

STRIPE_MOCK_VERSION=v0.203.0
GOLANGCI_LINT_VERSION=v2.15.0

check_only=false
case "${1:-}" in
  "") ;;
  --check) check_only=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

gobin=$(go env GOBIN)
if [[ -z $gobin ]]; then
  gopath=$(go env GOPATH)
  gobin="${gopath%%:*}/bin" # go install uses the first GOPATH entry
fi

missing=0

# ensure NAME MODULE PACKAGE VERSION
ensure() {
  local name=$1 module=$2 pkg=$3 version=$4 bin="$gobin/$1" have=""
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

exit "$missing"
