# uwlr-gateway: the two commands a user needs are `make run` and `make test`.
GO       ?= go
BIN      := bin
PKGS     := ./...

.PHONY: all build test run generate check-generate bench lint deps clean fuzz

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

deps:
	@scripts/deps.sh

# Every test, with the race detector, against real peers (PHP, xmllint, Redis).
test: deps
	@REDIS_URL=$$(scripts/redis.sh) && export REDIS_URL && \
	  $(GO) test -race -count=1 -timeout 30m $(PKGS)

# Demo: a simulated LAS with three schools, a connection check, the
# conformance suite against it; then the simulator keeps running.
run: build
	@scripts/run.sh

# gowsdl v0.5.0 reference skeleton (see wsdl/reference/README.md).
generate:
	@scripts/generate.sh

# Fails when regeneration changes the committed reference files.
check-generate: generate
	@git diff --exit-code -- wsdl/reference || { echo "wsdl/reference is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- wsdl/reference)" || { echo "wsdl/reference has uncommitted files"; exit 1; }

# Streaming reader vs encoding/xml Unmarshal vs PHP SoapClient, 1k/10k/50k pupils.
bench: deps build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./gateway/soap/
	@scripts/bench.sh

# Every go test -fuzz target for FUZZTIME each (default 15s), one after the other; fails on a crash.
fuzz:
	@GO=$(GO) scripts/fuzz.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) test -count=1 ./internal/archtest/

clean:
	rm -rf $(BIN)
