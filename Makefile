# starflow: one static binary. `make test` is what CI runs.
GO      ?= go
BIN     ?= bin/starflow
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build install test test-short bench lint clean slurm-up slurm-down slurm-check

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/starflow

install:
	CGO_ENABLED=0 $(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/starflow

# The whole suite, race detector on the packages with concurrency.
test: lint
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race ./dfk/... ./executors/... ./builtins/... ./memo/... ./monitoring/... ./providers/...

test-short:
	$(GO) test -short ./...

# Prints the benchmark table and writes bench/results.json.
bench: build
	$(GO) run ./bench -bin $(BIN) -out bench/results.json
	@echo "== interchange with 1,000 simulated workers x 4 slots, 1,000,000 no-op tasks (issue 5)"
	$(GO) test -run '^$$' -bench ThousandWorkers -benchtime 1x ./executors/htex/
	@echo "== dashboard run page, 100,000-task run: first byte and whole page, medians in ms (issue 7)"
	$(GO) test -run '^$$' -bench RunPage -benchtime 20x ./monitoring/web/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@cp go.mod /tmp/starflow-go.mod.$$$$; cp go.sum /tmp/starflow-go.sum.$$$$; \
	  $(GO) mod tidy; \
	  if ! cmp -s go.mod /tmp/starflow-go.mod.$$$$ || ! cmp -s go.sum /tmp/starflow-go.sum.$$$$; then \
	    echo "go mod tidy changed go.mod/go.sum: commit the tidy result"; \
	    cp /tmp/starflow-go.mod.$$$$ go.mod; cp /tmp/starflow-go.sum.$$$$ go.sum; rm -f /tmp/starflow-go.*.$$$$; exit 1; fi; \
	  rm -f /tmp/starflow-go.*.$$$$
	@./.ci/imports.sh

# A real 3-node Slurm cluster on this machine for the Slurm tests (root);
# see testing/slurm/README.md. .ci/run starts it before `make test`; tests
# that need it skip with a message when `sinfo` does not answer.
slurm-up:
	bash testing/slurm/up.sh

slurm-down:
	bash testing/slurm/down.sh

slurm-check: slurm-up
	bash testing/slurm/check.sh

clean:
	rm -rf bin runinfo bench/results.json
