# cortexctl: `make` (or `make help`) lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO      ?= go
BIN     := bin/cortexctl
MAIN    := ./cmd/cortexctl
# Extra flags for `go test`, e.g. make test TESTFLAGS='-run TestOverage -v'.
# scripts/test.sh also reads CORTEXCTL_TEST_DATABASE_URL, STRIPE_MOCK_URL,
# CORTEXCTL_TEST_S3_ENDPOINT, CORTEXCTL_TEST_REDIS_URL and CORTEXCTL_TEST_SKIP
# (e.g. CORTEXCTL_TEST_SKIP=stripe-mock,s3,redis) from the environment.
TESTFLAGS ?=

# Version info baked into the binary; override on the command line
# (make build VERSION=v1.2.3). Evaluated only when a recipe uses them.
VERSION = $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  = $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE    = $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS = -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

# Where `go install` (and so scripts/tools.sh) puts the pinned tools.
TOOLS_BIN     = $(or $(shell $(GO) env GOBIN),$(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin)
GOLANGCI_LINT = $(TOOLS_BIN)/golangci-lint
# Every shell script, for shellcheck (make lint).
SHELL_SCRIPTS = $(wildcard scripts/*.sh infra/*.sh) .ci/run

.PHONY: help
help: ## Show this list of targets
	@echo 'Usage: make <target>'
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z_-]+:.*## / { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/cortexctl with version, commit and date baked in
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) $(MAIN)
	@echo "built $(BIN) ($(VERSION), $(COMMIT))"

.PHONY: test
test: ## Run all tests with -race; starts stripe-mock, versitygw (S3) and redis-server if none answers, needs PostgreSQL (scripts/test.sh)
	@bash scripts/test.sh $(TESTFLAGS)

.PHONY: lint
lint: tools ## Static checks: go vet, gofmt, go mod tidy, golangci-lint, shellcheck
	@echo '--- go vet'
	$(GO) vet ./...
	@echo '--- gofmt'
	@unformatted=$$(find . -name '*.go' -not -path './.*' -not -path './vendor/*' -print0 | xargs -0 -r gofmt -l); \
	if [[ -n $$unformatted ]]; then \
	  echo "gofmt: these files are not formatted (run 'gofmt -w' on them):"; echo "$$unformatted"; exit 1; \
	fi
	@echo '--- go mod tidy -diff'
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy'"; exit 1; }
	@echo '--- golangci-lint'
	$(GOLANGCI_LINT) run ./...
	@echo '--- shellcheck'
	@command -v shellcheck >/dev/null || { echo "shellcheck not found: apt-get install shellcheck (bash .ci/run does)"; exit 1; }
	shellcheck $(SHELL_SCRIPTS)

.PHONY: crontab
crontab: ## Regenerate crontab/*.cron from the schedule registry (internal/schedule) with `cortexctl schedule export`
	@mkdir -p crontab
	$(GO) run $(MAIN) schedule export --format host >crontab/cortexctl.cron
	$(GO) run $(MAIN) schedule export --format host-binary >crontab/cortexctl-binary.cron
	$(GO) run $(MAIN) schedule export --format supercronic >crontab/supercronic.cron

.PHONY: demo
demo: ## Build, start a local PostgreSQL if none answers, seed demo data and run the billing jobs
	bash scripts/demo.sh

.PHONY: bench
bench: ## Run the benchmarks: overage job, API (~2 min), db backup (~15 min), Stripe push (~20 min)
	bash scripts/bench.sh
	bash scripts/bench-api.sh
	bash scripts/bench-backup.sh
	bash scripts/bench-push.sh

.PHONY: bench-api
bench-api: ## Only the API benchmark: POST /v1/usage under wrk vs pgbench, and batches (scripts/bench-api.sh)
	bash scripts/bench-api.sh

.PHONY: bench-backup
bench-backup: ## Only the backup benchmark: db backup vs pg_dump and the old way, on ~2 GB (scripts/bench-backup.sh)
	bash scripts/bench-backup.sh

.PHONY: bench-push
bench-push: ## Only the Stripe push benchmark: concurrency 1 vs 8 (scripts/bench-push.sh)
	bash scripts/bench-push.sh

.PHONY: tools
tools: ## Install the pinned stripe-mock, gotestsum, versitygw, supercronic and golangci-lint into $(go env GOPATH)/bin
	@bash scripts/tools.sh

.PHONY: clean
clean: ## Remove build, coverage and bench output (leaves the demo cluster in .dev/ alone)
	rm -rf bin/ .bench/ coverage.out coverage.html *.coverprofile
