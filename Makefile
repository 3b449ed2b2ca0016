# cortexctl: `make` (or `make help`) lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO      ?= go
BIN     := bin/cortexctl
MAIN    := ./cmd/cortexctl
# Extra flags for `go test`, e.g. make test TESTFLAGS='-run TestOverage -v'
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
STRIPE_MOCK_URL ?= http://127.0.0.1:12111

.PHONY: help
help: ## Show this list of targets
	@echo 'Usage: make <target>'
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z_-]+:.*## / { printf "  %-8s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/cortexctl with version, commit and date baked in
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) $(MAIN)
	@echo "built $(BIN) ($(VERSION), $(COMMIT))"

.PHONY: test
test: ## Run all tests with -race (needs PostgreSQL on 127.0.0.1:5432 and stripe-mock; .ci/run starts both)
	@curl -fsS -o /dev/null --max-time 2 -H 'Authorization: Bearer sk_test_123' '$(STRIPE_MOCK_URL)/v1/customers' 2>/dev/null \
	  || echo "warning: stripe-mock does not answer at $(STRIPE_MOCK_URL); start it with: $(TOOLS_BIN)/stripe-mock -http-addr 127.0.0.1:12111 -https-addr 127.0.0.1:12112 &" >&2
	$(GO) test -race -count=1 $(TESTFLAGS) ./...

.PHONY: lint
lint: tools ## Static checks: go vet, gofmt, go mod tidy, golangci-lint
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

.PHONY: demo
demo: ## Build, start a local PostgreSQL if none answers, seed demo data and run the billing jobs
	bash scripts/demo.sh

.PHONY: bench
bench: ## Run the benchmarks (scripts/bench.sh)
	bash scripts/bench.sh

.PHONY: tools
tools: ## Install the pinned stripe-mock and golangci-lint into $(go env GOPATH)/bin
	@bash scripts/tools.sh

.PHONY: clean
clean: ## Remove build, coverage and bench output (leaves the demo cluster in .dev/ alone)
	rm -rf bin/ .bench/ coverage.out coverage.html *.coverprofile
