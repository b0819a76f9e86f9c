# Skript — run `make` or `make help` to list the targets.
GO        ?= go
BIN       ?= bin/skript
FUZZTIME  ?= 30s
CONFORMANCE ?= ../shared/conformance/run.py
# The commit --version names when Go records no VCS data (-buildvcs=false,
# some worktrees).
COMMIT    ?= $(shell git describe --always --dirty --abbrev=12 2>/dev/null)
LDFLAGS   ?= -X main.commit=$(COMMIT)

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_\/-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the skript binary into bin/
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/skript

.PHONY: test
test: ## Run every test with the race detector (the command CI runs)
	@[ -n "$$SKRIPT_TEST_REDIS_URL" ] || command -v redis-server >/dev/null || echo "make test: WARNING: redis-server not found in PATH: the Redis store tests will be SKIPPED (install redis-server, set SKRIPT_TEST_REDIS_URL, or SKRIPT_REQUIRE_REDIS=1 to fail instead)" >&2
	$(GO) test -race -count=1 ./...

.PHONY: test/short
test/short: ## Run the tests without the race detector, skipping slow ones
	@[ -n "$$SKRIPT_TEST_REDIS_URL" ] || command -v redis-server >/dev/null || echo "make test/short: WARNING: redis-server not found in PATH: the Redis store tests will be SKIPPED" >&2
	$(GO) test -short ./...

.PHONY: test/race
test/race: test ## Same as test: the race detector is always on

.PHONY: conformance
conformance: ## Run the black-box CLI suite, kept outside this repository (CONFORMANCE=path/to/run.py; STORE=redis://... for Redis)
	@test -f "$(CONFORMANCE)" || { echo "conformance: $(CONFORMANCE) not found; the suite is not in this repository: pass CONFORMANCE=path/to/run.py"; exit 2; }
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/skript
	python3 $(CONFORMANCE) --skript $(BIN) $(if $(STORE),--store $(STORE))

GOLANGCI_LINT_VERSION ?= v2.15.0

.PHONY: web
web: ## Rebuild the web UI's embedded bundle (web/dist: Vite and the WebAssembly compiler); commit it after any change to web/, the compiler or the JSON Schema
	bash web/build.sh

.PHONY: tools
tools: ## Install golangci-lint (pinned) into $(GOPATH)/bin
	$(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

.PHONY: lint
lint: ## gofmt, go vet and golangci-lint (when installed)
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	@lint=$$(command -v golangci-lint || echo "$$($(GO) env GOPATH)/bin/golangci-lint"); \
	if [ -x "$$lint" ]; then "$$lint" run ./...; else echo "golangci-lint not installed (make tools): skipped"; fi

.PHONY: bench
bench: ## Go benchmarks: compiler, runtime fan-out, store drivers
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: bench/skript
bench/skript: build ## The auto-tuned fan-out benchmark (STORE=redis://... for Redis); see bench/README.md
	$(BIN) bench $(if $(STORE),--store $(STORE))

.PHONY: fuzz
fuzz: ## Fuzz the parser, the compiler and the Blueprint decoder for FUZZTIME each
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./dsl
	$(GO) test -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME) ./compiler
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./blueprint
