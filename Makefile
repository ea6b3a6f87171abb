# One entry point for the common jobs. Tool versions live in hack/versions.env.
SHELL := /bin/bash
GO ?= go
TEST_TIMEOUT ?= 60m
# The rack version stamped into the binaries (pkg/version): the commit time, YYYYMMDDhhmmss.
VERSION ?= $(shell bash hack/version.sh)
LDFLAGS := -X github.com/convox/rack/pkg/version.Version=$(VERSION)

.PHONY: tools test test-short vet fmt lint fuzz images run bench build

build:
	$(GO) build -ldflags "$(LDFLAGS)" ./...

tools:
	bash hack/tools.sh

# The full suite: lint, then unit, table and integration tests on the real
# BuildKit, runc, kaniko, registry, Docker engine, moto_server and cfn-lint.
test: lint
	$(GO) test -p 2 -timeout $(TEST_TIMEOUT) -count=1 ./...

test-short:
	$(GO) test -short -count=1 ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# gofmt, go vet and staticcheck (pinned in hack/versions.env, built by make tools);
# make test runs it first (staticcheck takes a minute or two on a cold cache).
TOOLS ?= $(or $(CONVOX_TOOLS),$(HOME)/.cache/convox-rack-tools)
lint: vet
	@test -x $(TOOLS)/bin/staticcheck || { echo "staticcheck missing: run make tools"; exit 1; }
	$(TOOLS)/bin/staticcheck ./...

# Fuzz every target for FUZZTIME each (not part of make test).
FUZZTIME ?= 60s
fuzz:
	bash hack/fuzz.sh $(FUZZTIME)

images:
	VERSION=$(VERSION) bash hack/images.sh $(REGISTRY)

run:
	bash hack/run.sh

bench:
	bash hack/bench.sh
